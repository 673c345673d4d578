// The pool's task module for the cluster bench's pool row (weft's `Pool({ module })` on the serving
// node, one thread): every named export is a task.
export const inc = (x) => x + 1;
