/**
 * The wire codec's network profile (`HandleProfile`): how handles cross machines. A local actor
 * ref of the node's own system leaves as its address (node and id; the node keeps it so that
 * messages can come back), a RemoteRef as its address, and nothing else leaves (a SharedStack is
 * memory of this process). From the network only remote actor addresses are read: a peer's bytes
 * never make a handle to this process's structures.
 */
import { ActorRef } from '../actor/index.js';
import { DataCloneError } from '../errors.js';
import {
  HANDLE_ACTOR_REF,
  HANDLE_REMOTE_REF,
  type HandleCodec,
  type HandleProfile,
  type WireReader,
  type WireWriter,
} from '../internal/wire.js';
import { RemoteRef, type RemoteSender, readAddress, writeAddress } from './remote-ref.js';

export interface ProfileHost {
  /** This node's name. */
  readonly self: string;
  /** Sends for the RemoteRefs read from the network. */
  readonly sender: RemoteSender;
  /** A local ref leaves: keep it (throws DataCloneError for a ref the node cannot export). */
  export(ref: ActorRef): void;
  /** The exported local ref with this id, if any. */
  local(id: number): ActorRef | undefined;
}

export function networkProfile(host: ProfileHost): HandleProfile {
  return {
    write(w: WireWriter, v: object, codec: HandleCodec): void {
      if (v instanceof RemoteRef) {
        w.handleHeader(HANDLE_REMOTE_REF);
        writeAddress(w, v.address);
        return;
      }
      if (codec.subTag === HANDLE_ACTOR_REF && v instanceof ActorRef) {
        host.export(v);
        w.handleHeader(HANDLE_REMOTE_REF);
        writeAddress(w, { node: host.self, id: v.id });
        return;
      }
      const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } }).constructor?.name ?? 'handle';
      throw new DataCloneError(`a ${name} cannot cross machines: it is memory of this process`);
    },
    read(r: WireReader, subTag: number): unknown {
      if (subTag !== HANDLE_REMOTE_REF) {
        throw new DataCloneError(
          `a handle of sub-tag ${subTag} came from the network: only actor refs cross machines (shared structures and local handles never do)`,
        );
      }
      const a = readAddress(r);
      if (a.node === host.self) {
        const local = host.local(a.id);
        if (local !== undefined) return local;
      }
      return new RemoteRef(a, host.sender);
    },
  };
}
