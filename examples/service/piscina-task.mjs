// piscina's task module (piscina mode): the same work as the weft pool's task.
import { hashTask } from './work.mjs';

export default function ({ data, rounds }) {
  return hashTask(data, rounds, undefined);
}
