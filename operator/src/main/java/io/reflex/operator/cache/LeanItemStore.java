package io.reflex.operator.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * An informer store that keeps what the operator reads and drops the rest before an object is cached: every object's
 * {@code managedFields} (server-side apply bookkeeping: a tree of maps per field manager, often larger than the
 * object; the operator never reads it), and of a Node everything but its metadata and addresses (placement uses the
 * labels and the InternalIP; a Node's images, conditions and capacity are most of it). At 10,000 tenants the caches
 * are most of the operator's heap.
 *
 * <p>Objects are trimmed in place: the informer deserialised them for this store alone, and the event handlers that
 * get the same instance read neither part.
 */
public class LeanItemStore<V extends HasMetadata> extends BasicItemStore<V> {

  public LeanItemStore() {
    super(Cache::metaNamespaceKeyFunc);
  }

  @Override
  public V put(String key, V obj) {
    return super.put(key, trim(obj));
  }

  /** {@code o} without what no reader of the caches uses. */
  public static <V extends HasMetadata> V trim(V o) {
    if (o.getMetadata() != null) {
      o.getMetadata().setManagedFields(null);
    }
    if (o instanceof Node n) {
      n.setSpec(null);
      if (n.getStatus() != null) {
        NodeStatus lean = new NodeStatus();
        lean.setAddresses(n.getStatus().getAddresses());
        n.setStatus(lean);
      }
    }
    return o;
  }
}
