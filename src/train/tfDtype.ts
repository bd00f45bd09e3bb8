import { DataType, isFloatType } from '../ir/dtype.js';

/** The tfjs dtype that holds an ONNX element type: every float type is float32, every integer type int32. */
export function tfDtypeOf(onnxType: number): 'float32' | 'int32' | 'bool' {
  if (onnxType === DataType.BOOL) return 'bool';
  return isFloatType(onnxType) ? 'float32' : 'int32';
}
