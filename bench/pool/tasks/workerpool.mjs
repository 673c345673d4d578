// workerpool's worker script: the task functions registered with workerpool.worker(), called by
// name with `pool.exec(name, [arg])`.
import workerpool from 'workerpool';
import { inc, incChunk, fibWork, fibSeq, factorialTask } from './work.mjs';

workerpool.worker({ inc, incChunk, fibWork, fibSeq, factorialTask });
