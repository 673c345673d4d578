// poolifier's worker file: the task functions wrapped in a ThreadWorker, called by name with
// `pool.execute(data, name)`.
import { ThreadWorker } from 'poolifier';
import { inc, incChunk, fibWork, fibSeq, factorialTask } from './work.mjs';

export default new ThreadWorker({ inc, incChunk, fibWork, fibSeq, factorialTask });
