import { onnx } from "onnx-proto";

/** One ONNX node attribute, typed explicitly (ints vs floats cannot be told apart in JS). */
export type OnnxAttr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

/** A dimension: a fixed size, or a symbolic name (e.g. "batch") for a dynamic axis. */
export type OnnxDim = number | string;

/** Element type of a graph input or output. */
export type OnnxElem = "float32" | "float16";

const ELEM_TYPE: Record<OnnxElem, number> = { float32: onnx.TensorProto.DataType.FLOAT, float16: onnx.TensorProto.DataType.FLOAT16 };

/**
 * A small builder over onnx-proto's generated classes: declare inputs, outputs, float
 * initialisers and nodes, then `toBytes()` gives a serialized ModelProto that
 * onnxruntime's InferenceSession.create accepts. The project's one ONNX builder: the built-in
 * encoder and the tiny ViT (lib/embed), the deployable head (lib/head/onnx.ts), the X-pass
 * kernel (lib/head/kernel.ts), the benchmarks and the test models, so that every model the
 * project runs goes through the real ONNX path.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inits: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  /** Weights kept outside the model proto (ONNX external data), in order. */
  private readonly external: { tensor: onnx.ITensorProto; bytes: Uint8Array }[] = [];

  constructor(
    readonly name: string,
    readonly opset = 17,
  ) {}

  private static valueInfo(name: string, dims: OnnxDim[], elem: OnnxElem): onnx.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType: ELEM_TYPE[elem],
          shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
        },
      },
    };
  }

  input(name: string, dims: OnnxDim[], elem: OnnxElem = "float32"): string {
    this.inputs.push(OnnxGraphBuilder.valueInfo(name, dims, elem));
    return name;
  }

  output(name: string, dims: OnnxDim[], elem: OnnxElem = "float32"): string {
    this.outputs.push(OnnxGraphBuilder.valueInfo(name, dims, elem));
    return name;
  }

  /** A fresh name with this prefix (for initialisers that need no particular name). */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /**
   * A float32 initialiser (weights), stored as raw little-endian bytes; with `external` the
   * bytes go to the external data file written by writeWithExternalData (as ONNX does for
   * models over 2 GB).
   */
  floatInit(name: string, dims: number[], values: Float32Array | number[], opts: { external?: boolean } = {}): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initialiser ${name}: ${data.length} values for shape [${dims.join(", ")}]`);
    const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    if (opts.external) {
      const tensor: onnx.ITensorProto = { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL };
      this.inits.push(tensor);
      this.external.push({ tensor, bytes: raw });
    } else {
      this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw });
    }
    return name;
  }

  /**
   * The model bytes plus its external data: initialisers made with `external` are laid out in
   * `dataFileName` (relative to the model file, 64-byte aligned offsets).
   */
  toBytesWithExternalData(dataFileName: string): { model: Uint8Array; data: Uint8Array } {
    let offset = 0;
    const parts: { at: number; bytes: Uint8Array }[] = [];
    for (const e of this.external) {
      offset = Math.ceil(offset / 64) * 64;
      e.tensor.externalData = [
        { key: "location", value: dataFileName },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(e.bytes.length) },
      ];
      parts.push({ at: offset, bytes: e.bytes });
      offset += e.bytes.length;
    }
    const data = new Uint8Array(offset);
    for (const p of parts) data.set(p.bytes, p.at);
    return { model: this.toBytes(), data };
  }

  /** An int64 initialiser (shapes, axes, indices). */
  int64Init(name: string, dims: number[], values: number[]): string {
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** Add a node; returns its output names (fresh names unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}, outputs?: string[] | number): string[] {
    const outs =
      Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, () => `${opType.toLowerCase()}_${this.counter++}`);
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, a]) => {
      const T = onnx.AttributeProto.AttributeType;
      if ("i" in a) return { name, type: T.INT, i: a.i };
      if ("f" in a) return { name, type: T.FLOAT, f: a.f };
      if ("ints" in a) return { name, type: T.INTS, ints: a.ints };
      if ("floats" in a) return { name, type: T.FLOATS, floats: a.floats };
      return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
    });
    this.nodes.push({ opType, input: inputs, output: outs, attribute, name: `${opType}_${this.nodes.length}` });
    return outs;
  }

  /** Single-output shorthand for node(). */
  op(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}, output?: string): string {
    return this.node(opType, inputs, attrs, output ? [output] : 1)[0];
  }

  /** The serialized ModelProto (external initialisers need toBytesWithExternalData). */
  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: this.opset }],
      producerName: "milpf",
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
