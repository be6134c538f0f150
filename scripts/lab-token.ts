// `npm run lab-token -- <user id> [ttl seconds]`: prints a JWT the mesh lab's
// gateway accepts for that user (LAB ONLY, docs/gateway.md), e.g.
//   T=$(npm run -s lab-token -- 0190…)
//   grpcurl -H "authorization: Bearer $T" …
import { mintLabToken } from './lib/lab-token.js';

const [subject, ttl] = process.argv.slice(2);
if (!subject) {
  console.error('usage: npm run lab-token -- <user id> [ttl seconds]');
  process.exitCode = 2;
} else {
  console.log(mintLabToken({ subject, ttlSeconds: ttl === undefined ? 3600 : Number(ttl) }));
}
