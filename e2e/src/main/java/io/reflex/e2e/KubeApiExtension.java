package io.reflex.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;

/** The JUnit extension behind {@link KubeApiTest}. */
public final class KubeApiExtension
    implements BeforeAllCallback, AfterAllCallback, TestInstancePostProcessor, ParameterResolver {

  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(KubeApiExtension.class);
  private static final String SHARED = "shared-control-plane";
  private static final String API = "kube-api";

  @Override
  public void beforeAll(ExtensionContext context) {
    api(context);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ClassState state = context.getStore(STORE).remove(API + context.getRequiredTestClass().getName(), ClassState.class);
    if (state != null) {
      state.close();
    }
  }

  @Override
  public void postProcessTestInstance(Object testInstance, ExtensionContext context) throws IllegalAccessException {
    KubeApi api = null;
    for (Class<?> c = testInstance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || Modifier.isFinal(f.getModifiers()) || !injectable(f.getType())) {
          continue;
        }
        f.setAccessible(true);
        if (f.get(testInstance) == null) {
          if (api == null) {
            api = api(context);
          }
          f.set(testInstance, valueFor(f.getType(), api));
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
    return valueFor(parameterContext.getParameter().getType(), api(extensionContext));
  }

  private static boolean injectable(Class<?> type) {
    return type == KubeApi.class || type == KubernetesClient.class || type == Kubectl.class
        || type == ControlPlane.class;
  }

  private static Object valueFor(Class<?> type, KubeApi api) {
    if (type == KubeApi.class) {
      return api;
    } else if (type == KubernetesClient.class) {
      return api.client();
    } else if (type == Kubectl.class) {
      return api.kubectl();
    } else {
      return api.controlPlane();
    }
  }

  /** The test class's KubeApi, set up on first use (BeforeAll, or instance post-processing with PER_CLASS). */
  private static KubeApi api(ExtensionContext context) {
    Class<?> testClass = classContext(context).getRequiredTestClass();
    ExtensionContext classContext = classContext(context);
    return classContext.getStore(STORE)
        .computeIfAbsent(API + testClass.getName(), k -> setUp(classContext, testClass), ClassState.class).api();
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  private static ClassState setUp(ExtensionContext classContext, Class<?> testClass) {
    boolean fresh = AnnotationSupport.findAnnotation(testClass, KubeApiTest.class)
        .map(KubeApiTest::freshServer).orElse(false);
    ControlPlane cp;
    if (fresh) {
      cp = startPrivate();
    } else {
      cp = classContext.getRoot().getStore(STORE).computeIfAbsent(SHARED, k -> sharedControlPlane(), ControlPlane.class);
    }
    String ns = namespaceName(testClass);
    KubernetesClient client = cp.newClient(ns);
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
        .addToLabels("reflex.io/test-class", labelValue(testClass.getSimpleName())).endMetadata().build()).create();
    try {
      Path cache = Files.createTempDirectory("reflex-kubectl-cache-");
      return new ClassState(new KubeApi(cp, ns, client, cache), fresh ? cp : null, cache);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ControlPlane sharedControlPlane() {
    Path external = ControlPlane.externalKubeconfig();
    return external != null ? ControlPlane.attach(external) : startPrivate();
  }

  private static ControlPlane startPrivate() {
    try {
      return ControlPlane.start(Files.createTempDirectory("reflex-cp-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String namespaceName(Class<?> testClass) {
    String base = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    if (base.length() > 40) {
      base = base.substring(0, 40);
    }
    String suffix = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36, 36L * 36 * 36 * 36 * 36 * 36), 36);
    return "t-" + base + "-" + suffix;
  }

  private static String labelValue(String s) {
    String v = s.replaceAll("[^A-Za-z0-9_.-]", "");
    return v.length() > 63 ? v.substring(0, 63) : v;
  }

  /** Per-class resources; closed in afterAll (or by JUnit when the class context closes). */
  private record ClassState(KubeApi api, ControlPlane privateServer, Path kubectlCache) implements AutoCloseable {
    @Override
    public void close() {
      try {
        if (privateServer == null) {
          // Without a namespace controller the namespace stays Terminating; on a throwaway server that is fine.
          api.client().namespaces().withName(api.namespace()).delete();
        }
      } catch (RuntimeException e) {
        System.err.println("[reflex-e2e] could not delete namespace " + api.namespace() + ": " + e);
      } finally {
        api.close();
        if (privateServer != null) {
          privateServer.close();
        }
        deleteTree(kubectlCache);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temp directory
    }
  }
}
