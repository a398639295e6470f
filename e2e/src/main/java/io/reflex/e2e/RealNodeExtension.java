package io.reflex.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;

/** The JUnit extension behind {@link RealNodeTest}. */
public final class RealNodeExtension
    implements BeforeAllCallback, AfterAllCallback, TestInstancePostProcessor, ParameterResolver {

  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(RealNodeExtension.class);
  private static final String SHARED = "shared-real-node";
  private static final String NODE = "real-node";
  private static final String POD_SECURITY_LABEL = "pod-security.kubernetes.io/enforce";

  @Override
  public void beforeAll(ExtensionContext context) {
    // Cluster and namespace come up before the first test; where the machine has no node, nothing happens here
    // and each test is skipped with the reason (an aborted beforeAll would hide the class from the report).
    SharedCluster shared = shared(context);
    if (shared.failure() != null) {
      throw shared.failure();
    }
    if (shared.cluster() != null) {
      node(context);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ClassState state = context.getStore(STORE).remove(NODE + context.getRequiredTestClass().getName(), ClassState.class);
    if (state != null) {
      state.close();
    }
  }

  @Override
  public void postProcessTestInstance(Object testInstance, ExtensionContext context) throws IllegalAccessException {
    RealNode node = null;
    for (Class<?> c = testInstance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || Modifier.isFinal(f.getModifiers()) || !injectable(f.getType())) {
          continue;
        }
        f.setAccessible(true);
        if (f.get(testInstance) == null) {
          if (node == null) {
            node = node(context);
          }
          f.set(testInstance, valueFor(f.getType(), node));
        }
      }
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return injectable(parameterContext.getParameter().getType());
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext)
      throws ParameterResolutionException {
    return valueFor(parameterContext.getParameter().getType(), node(extensionContext));
  }

  private static boolean injectable(Class<?> type) {
    return type == RealNode.class || type == KubernetesClient.class || type == Kubectl.class;
  }

  private static Object valueFor(Class<?> type, RealNode node) {
    if (type == RealNode.class) {
      return node;
    } else if (type == KubernetesClient.class) {
      return node.client();
    } else {
      return node.kubectl();
    }
  }

  /** The test class's RealNode, set up on first use; aborts (skips) the test when the machine has no node. */
  private static RealNode node(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    Class<?> testClass = classContext.getRequiredTestClass();
    RealNodeCluster cluster = shared(context).clusterOrAbort();
    return classContext.getStore(STORE)
        .computeIfAbsent(NODE + testClass.getName(), k -> setUp(cluster, testClass), ClassState.class).node();
  }

  private static SharedCluster shared(ExtensionContext context) {
    return context.getRoot().getStore(STORE).computeIfAbsent(SHARED, k -> SharedCluster.open(), SharedCluster.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  private static ClassState setUp(RealNodeCluster cluster, Class<?> testClass) {
    String level = AnnotationSupport.findAnnotation(testClass, RealNodeTest.class)
        .map(RealNodeTest::podSecurity).orElse("privileged");
    String ns = KubeApiExtension.namespaceName(testClass);
    KubernetesClient client = cluster.newClient(ns);
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
        .addToLabels("reflex.io/test-class", labelValue(testClass.getSimpleName()))
        .addToLabels(POD_SECURITY_LABEL, level).endMetadata().build()).create();
    try {
      // ServiceAccount admission rejects pods until the controller-manager has made the namespace's default account.
      client.serviceAccounts().withName("default").waitUntilCondition(sa -> sa != null, 60, TimeUnit.SECONDS);
      Path cache = Files.createTempDirectory("reflex-kubectl-cache-");
      return new ClassState(new RealNode(cluster, ns, client, cache), cache);
    } catch (IOException | RuntimeException e) {
      client.namespaces().withName(ns).delete();
      client.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  private static String labelValue(String s) {
    String v = s.replaceAll("[^A-Za-z0-9_.-]", "");
    return v.length() > 63 ? v.substring(0, 63) : v;
  }

  /**
   * The run's cluster, or why there is none; in the root store, so it is opened once per JVM and closed (taken
   * down, if this run started it) when the run ends. A refusal is remembered: later classes skip at once.
   */
  private record SharedCluster(RealNodeCluster cluster, String unavailable, RuntimeException failure)
      implements AutoCloseable {

    static SharedCluster open() {
      try {
        return new SharedCluster(RealNodeCluster.open(), null, null);
      } catch (RealNodeCluster.Unavailable e) {
        System.out.println("[reflex-e2e] skipping the realnode tier: " + e.getMessage());
        return new SharedCluster(null, e.getMessage(), null);
      } catch (RuntimeException e) {
        return new SharedCluster(null, null, e);
      }
    }

    RealNodeCluster clusterOrAbort() {
      if (failure != null) {
        throw failure;
      }
      Assumptions.assumeTrue(cluster != null, () -> "no real node on this machine: " + unavailable);
      return cluster;
    }

    @Override
    public void close() {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /** Per-class resources; closed in afterAll (or by JUnit when the class context closes). */
  private record ClassState(RealNode node, Path kubectlCache) implements AutoCloseable {
    @Override
    public void close() {
      try {
        // A real namespace controller runs here: wait until the namespace and everything in it is gone.
        node.client().namespaces().withName(node.namespace()).delete();
        node.client().namespaces().withName(node.namespace()).waitUntilCondition(n -> n == null, 120, TimeUnit.SECONDS);
      } catch (RuntimeException e) {
        System.err.println("[reflex-e2e] could not delete namespace " + node.namespace() + ": " + e);
      } finally {
        node.close();
        try (var paths = Files.walk(kubectlCache)) {
          paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
          // best effort: a temp directory
        }
      }
    }
  }
}
