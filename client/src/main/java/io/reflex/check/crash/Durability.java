package io.reflex.check.crash;

/** When the crash checker counts a write as acknowledged, i.e. durable: from then on it must survive a crash. */
public enum Durability {
  /** The write's own reply (ReFlex SET, NBD WRITE without FUA): what the dataplane's {@code --sync-writes true} promises. */
  REPLY,
  /** The reply to an NBD WRITE carrying the FUA flag. */
  FUA,
  /** The reply to a FLUSH sent after the write's own reply (ReFlex FLUSH, NBD_CMD_FLUSH). */
  FLUSH
}
