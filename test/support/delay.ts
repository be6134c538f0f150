import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';

/**
 * Middleware that makes a real server slow on demand: each call waits
 * `delay.ms` before its handler runs, or until the call is cancelled.
 */
export function delayMiddleware(): { middleware: ServerMiddleware; delay: { ms: number } } {
  const delay = { ms: 0 };
  const middleware: ServerMiddleware = async (request, context, next) => {
    if (delay.ms > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay.ms);
        context.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return next(request, context);
  };
  return { middleware, delay };
}
