package io.reflex.e2e;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class that runs against a real kube-apiserver + etcd (tier "apiserver").
 *
 * <p>Each class gets a fresh namespace on an API server shared by the test JVM (started on first use, stopped
 * at the end of the run), or its own API server with {@code freshServer = true}. If {@code REFLEX_KUBECONFIG}
 * (or {@code -Dreflex.kubeconfig}) names a running control plane, e.g. one from {@code e2e/controlplane up},
 * that one is used instead and left running.
 *
 * <p>Inject {@link KubeApi}, a namespace-bound {@link io.fabric8.kubernetes.client.KubernetesClient},
 * {@link Kubectl} or the {@link ControlPlane} as constructor/method parameters or into instance fields.
 * Exclude the tier with {@code -DexcludedGroups=apiserver}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(KubeApiExtension.class)
@Tag(KubeApiTest.TAG)
public @interface KubeApiTest {
  String TAG = "apiserver";

  /** Start a private API server for this class instead of sharing the run's (costs a few seconds). */
  boolean freshServer() default false;
}
