/**
 * A refusal: the command makes no sense for these manifests, or they
 * disagree with themselves. The CLI prints the message and exits 2; nothing
 * has been written when a plan throws one.
 */
export class CanaryError extends Error {}
