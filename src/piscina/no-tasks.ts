/**
 * The task module of a `Piscina` created without `filename` (every `run` names its own): the
 * pool's workers load it at start, and it exports no task.
 */
export const noTasks = true;
