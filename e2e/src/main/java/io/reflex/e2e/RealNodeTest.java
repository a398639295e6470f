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
 * A test class that runs against a real single-node Kubernetes on this machine (tier "realnode",
 * {@code e2e/cluster}): pods run on a real kubelet and containerd, Services route, CoreDNS resolves.
 *
 * <p>The cluster is shared by the test JVM: the one {@code REFLEX_REAL_NODE_KUBECONFIG} (or
 * {@code -Dreflex.realnode.kubeconfig}) names, else the one {@code e2e/cluster status} reports up (both left
 * running), else one {@code e2e/cluster up} starts on first use and {@code e2e/cluster down} stops at the end of
 * the run, restoring the machine. The tests are skipped, with the reason, where the machine cannot run a node
 * (not root, node binaries not built by {@code e2e/bin/build-node}, packages missing).
 *
 * <p>Each class gets a fresh namespace whose pod-security level is {@link #podSecurity()}, deleted afterwards.
 * Inject {@link RealNode}, a namespace-bound {@link io.fabric8.kubernetes.client.KubernetesClient} or
 * {@link Kubectl} as constructor/method parameters or into instance fields. Run only this tier with
 * {@code -Dgroups=realnode}; exclude it with {@code -DexcludedGroups=realnode}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(RealNodeExtension.class)
@Tag(RealNodeTest.TAG)
public @interface RealNodeTest {
  String TAG = "realnode";

  /**
   * The namespace's {@code pod-security.kubernetes.io/enforce} level: {@code privileged} (default: what the node
   * agent's DaemonSet needs, hostNetwork and all), {@code baseline} or {@code restricted}.
   */
  String podSecurity() default "privileged";
}
