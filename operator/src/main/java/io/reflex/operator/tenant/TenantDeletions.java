package io.reflex.operator.tenant;

import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.javaoperatorsdk.operator.processing.event.source.ResourceEventAware;
import io.reflex.crds.v1alpha1.FlashTenant;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Hears every FlashTenant delete event the controller's own informer sees, and every tenant it sees marked for
 * deletion (Terminating behind someone else's finalizer), and hands it to {@code onDeleted}.
 *
 * <p>Tenants carry no finalizer, so a delete reaches the operator only as this event. JOSDK can run the reconciler
 * for it ({@code triggerReconcilerOnAllEvents}), but quarkus-operator-sdk 7.7 drops that setting from the
 * configuration it builds: under Quarkus deleted tenants were never freed until the operator restarted. JOSDK tells
 * every event source that is {@link ResourceEventAware} about the primary resource's events whatever the
 * configuration, which is what this is. It produces no events itself. (Without a finalizer of its own, JOSDK
 * does not reconcile a tenant marked for deletion either: that one comes here too.)
 */
final class TenantDeletions extends AbstractEventSource<Void, FlashTenant> implements ResourceEventAware<FlashTenant> {
  private final Consumer<FlashTenant> onDeleted;

  TenantDeletions(Consumer<FlashTenant> onDeleted) {
    super(Void.class, "tenant-deletions");
    this.onDeleted = onDeleted;
  }

  @Override
  public Set<Void> getSecondaryResources(FlashTenant primary) {
    return Set.of();
  }

  /** Called on the informer's thread (as are the two below): {@code onDeleted} must hand off anything slow. */
  @Override
  public void onResourceDeleted(FlashTenant t) {
    onDeleted.accept(t);
  }

  @Override
  public void onResourceCreated(FlashTenant t) {
    if (t.isMarkedForDeletion()) {
      onDeleted.accept(t);
    }
  }

  @Override
  public void onResourceUpdated(FlashTenant t, FlashTenant old) {
    if (t.isMarkedForDeletion()) {
      onDeleted.accept(t); // also when it was already: a finalizer removed by someone else, say (idempotent)
    }
  }
}
