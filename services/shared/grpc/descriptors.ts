import {
  createFileRegistry,
  type DescFile,
  type FileRegistry,
  fromBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fileDescriptorSet } from '../../gen/descriptor_set.pb.js';

let registry: FileRegistry | undefined;

/**
 * Every descriptor under proto/ (built by buf from the same sources as the
 * generated code), parsed once on first use.
 */
export function protoRegistry(): FileRegistry {
  registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, fileDescriptorSet));
  return registry;
}

/** `file` and every file it imports, directly or not, `file` first. */
export function withDependencies(files: Iterable<DescFile>): DescFile[] {
  const seen = new Set<DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dependency of file.dependencies) visit(dependency);
  };
  for (const file of files) visit(file);
  return [...seen];
}
