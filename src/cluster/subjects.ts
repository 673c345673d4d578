/**
 * The NATS subjects and KV keys of one cluster (`weft.<cluster>.>`), and the rule for the names
 * that go into them: a cluster, node, actor or pool name is 1 to 64 characters of `A-Z a-z 0-9 _ -`
 * (a NATS subject token and a KV key both allow them; `.`, `*`, `>` and blanks would change the
 * subject's meaning).
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `s` can be a cluster, node, actor or pool name. */
export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}

/** `s` if it can be a name, else `WEFT_INVALID_ARG` naming `what`. */
export function checkToken(s: unknown, what: string): string {
  if (!isToken(s)) throw new InvalidArgumentError(`${what} must be 1 to 64 characters of A-Z a-z 0-9 _ -, got ${describe(s)}`);
  return s;
}

/** The subjects of one node of one cluster. */
export class Subjects {
  readonly #p: string;
  /** `<prefix>r.<node>.`, made once: a reply subject is made per ask. */
  readonly #r: string;
  constructor(
    readonly cluster: string,
    readonly node: string,
  ) {
    this.#p = `weft.${cluster}.`;
    this.#r = `${this.#p}r.${node}.`;
  }
  /** A named actor: subscribed by the node that holds its placement. */
  actor(name: string): string {
    return `${this.#p}a.${name}`;
  }
  /** An unnamed actor of `node` whose ref crossed the network. */
  byId(node: string, id: number): string {
    return `${this.#p}n.${node}.${id}`;
  }
  /** All of this node's unnamed actors (one wildcard subscription). */
  get byIdWildcard(): string {
    return `${this.#p}n.${this.node}.*`;
  }
  /** Where the reply to this node's ask `id` comes. */
  reply(id: number): string {
    return this.#r + id;
  }
  /** Where the replies to this node's asks sent together as batch `k` (an ASKS frame) come. */
  batchReply(k: number): string {
    return `${this.#r}b${k}`;
  }
  /** This node's replies (one wildcard subscription). */
  get replyWildcard(): string {
    return `${this.#r}*`;
  }
  /** A served pool (a queue group of that name). */
  pool(name: string): string {
    return `${this.#p}p.${name}`;
  }
  /** The KV bucket of placements. */
  get placementBucket(): string {
    return `weft_${this.cluster}_placement`;
  }
  /** A named actor's placement key. */
  placementKey(name: string): string {
    return `a.${name}`;
  }
}
