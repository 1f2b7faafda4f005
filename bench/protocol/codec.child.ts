// The codec suite's process: `runCodecBench` runs this file in plain node (see run-in-node.ts).
import { measureCodec } from './codec.bench.js';

console.log(await measureCodec());
