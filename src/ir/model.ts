import type { ModelProto } from 'onnx-buf';
import type { Graph } from './graph.js';

/**
 * A loaded ONNX model: its main graph in IR form, and the ModelProto it came from (for every field the IR does not
 * model: metadata_props, training_info, functions, configuration, unknown fields), written back unchanged.
 */
export class Model {
  graph: Graph;
  readonly proto: ModelProto;
  /** Folder external-data locations are relative to. */
  readonly baseDir: string;
  /**
   * Real paths of every file the model was read from: the model file and its external data files. Saving refuses
   * to write over any of them, since tensors not yet read still point into them.
   */
  readonly sourceFiles: readonly string[];

  constructor(proto: ModelProto, graph: Graph, baseDir: string, sourceFiles: readonly string[] = []) {
    this.proto = proto;
    this.graph = graph;
    this.baseDir = baseDir;
    this.sourceFiles = sourceFiles;
  }

  get irVersion(): number { return Number(this.proto.irVersion); }
  get producerName(): string { return this.proto.producerName; }
  get producerVersion(): string { return this.proto.producerVersion; }

  /** Opset imports as domain → version ('' is the default ONNX domain). */
  get opsets(): Map<string, number> {
    return new Map(this.proto.opsetImport.map((o) => [o.domain === 'ai.onnx' ? '' : o.domain, Number(o.version)]));
  }

  /** The default-domain opset version (what op semantics to apply). */
  get opsetVersion(): number {
    return this.opsets.get('') ?? 1;
  }

  get metadata(): Map<string, string> {
    return new Map(this.proto.metadataProps.map((p) => [p.key, p.value]));
  }
}
