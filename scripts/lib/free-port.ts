import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The ports the kernel hands out on its own: to listen(0) and, above all, as
 * the source port of every outgoing connection. A port found free there can
 * be taken by any connection some other test opens before our service binds
 * it (seen: EADDRINUSE at start in a clean-clone run), so we pick below it.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

const [ephemeralLow] = ephemeralRange();
// Below the ephemeral range, above the well-known and common service ports.
const pickLow = Math.min(20_000, ephemeralLow - 2000);
const pickHigh = ephemeralLow - 1;

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free a moment ago, for processes that need a port
 * number up front: random, outside the kernel's ephemeral range (so no
 * outgoing connection takes it meanwhile), and checked by binding it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = pickLow + Math.floor(Math.random() * (pickHigh - pickLow + 1));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port in ${pickLow}-${pickHigh} after 100 tries`);
}
