package io.reflex.agent.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.logging.Logger;

/**
 * Informers that watch only this node's FlashDevices and FlashTenants, through the CRDs' selectable fields
 * ({@code spec.nodeName}, {@code status.placement.node}): with a thousand nodes, every tenant's status write would
 * otherwise reach every agent. A tenant re-placed elsewhere leaves the selection, which the watch reports as a delete.
 * API servers without custom-resource field selectors (Kubernetes before 1.31, or CRDs from an older chart) refuse
 * the selector with 400: then everything is watched and filtered here, as before, and the log says so.
 *
 * <p>The informers' lists are consistent reads, in pages of {@value #LIST_PAGE}: without a page limit, fabric8 lists
 * with {@code resourceVersion=0}, which an API server may answer from a watch cache that lags (an HA control plane:
 * arbitrarily). An agent starting, or unfencing after a partition, must see where its tenants are placed now.
 */
public final class NodeScopedInformers {
  private static final Logger LOG = Logger.getLogger(NodeScopedInformers.class.getName());

  static final long LIST_PAGE = 500;

  private NodeScopedInformers() {}

  /** A not yet started informer on {@code op}, restricted to {@code field=node} where the API server supports it. */
  public static <T extends HasMetadata, L extends KubernetesResourceList<T>> SharedIndexInformer<T> forNode(
      FilterWatchListDeletable<T, L, Resource<T>> op, String kind, String field, String node) {
    var scoped = op.withField(field, node);
    try {
      scoped.list(new ListOptionsBuilder().withLimit(1L).build());
      return scoped.withLimit(LIST_PAGE).runnableInformer(0);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 400) {
        throw e; // not a refusal of the selector: the caller's startup reports it
      }
      LOG.warning(kind + ": the API server refuses the field selector " + field + "=" + node + " (" + e.getMessage()
          + "); watching every " + kind + " and keeping this node's (Kubernetes >= 1.31 and the current CRDs avoid this)");
      return op.withLimit(LIST_PAGE).runnableInformer(0);
    }
  }
}
