package io.reflex.operator.placement;

/** How to choose among the devices a tenant fits on. */
public enum PlacementPolicy {
  /** Pack: the device left with the least spare tokens, then the least free capacity (keeps big holes free). */
  BEST_FIT,
  /** Spread: the device left with the most spare tokens, then the most free capacity (balances load). */
  SPREAD
}
