// A YAML file as `yaml` Documents and back. Printing what was parsed gives
// back the same bytes, comments and layout included, for every manifest in
// k8s/base/ and mesh/ (test/k8s/canary.test.ts checks it), so an edit through the
// Document API changes only the lines it means to.
import { type Document, parseAllDocuments, type ToStringOptions } from 'yaml';
import { CanaryError } from './canary-error.js';

/**
 * What keeps `toString` from reformatting: the defaults fold plain scalars
 * longer than 80 columns onto a second line (`lineWidth: 0` never folds) and
 * pad flow collections (`[a, b]` would print as `[ a, b ]`).
 */
export const printOptions: ToStringOptions = { lineWidth: 0, flowCollectionPadding: false };

/** Every document of a YAML stream; throws on a syntax error. */
export function parseStream(text: string, path: string): Document.Parsed[] {
  const documents = [...parseAllDocuments(text)];
  for (const document of documents) {
    const [error] = document.errors;
    if (error) throw new CanaryError(`${path}: ${error.message}`);
  }
  return documents;
}

export function printStream(documents: readonly Document[]): string {
  return documents.map((document) => document.toString(printOptions)).join('');
}
