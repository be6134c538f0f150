// The files of k8s/components/monitoring that programs read: the scrape
// config and the rule files it loads. The Prometheus Operator's objects
// (operator-manifests.ts) and the mesh lab's Prometheus (scripts/mesh/
// prometheus.ts) are both made from these, so they never drift from them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Document, parseDocument } from 'yaml';
import { repo } from '../lib/child-process.js';

export const monitoringDir = join(repo, 'k8s/components/monitoring');

/** The scrape job of prometheus.yml that finds the pods (and the PodMonitor mirrors). */
export const podsJob = 'kubernetes-pods';

/** A YAML file as a document (comments kept), failing on a syntax error. */
export function parseYamlFile(file: string): Document {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
  return doc;
}

/** prometheus.yml as a YAML document. */
export function prometheusConfig(dir = monitoringDir): Document {
  return parseYamlFile(join(dir, 'prometheus.yml'));
}

/** The rule files prometheus.yml loads, relative to it (no globs: each is named). */
export function ruleFiles(dir = monitoringDir): string[] {
  const files: unknown = prometheusConfig(dir).toJS()?.rule_files;
  if (
    !Array.isArray(files) ||
    files.length === 0 ||
    files.some((f) => typeof f !== 'string' || f.includes('*'))
  ) {
    throw new Error('prometheus.yml: rule_files must list each file by name');
  }
  return files as string[];
}
