package io.reflex.agent.apiserver;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.reflex.agent.NodeAgent;
import io.reflex.agent.cli.AgentCommand;
import io.reflex.agent.config.AgentSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * The agent's core (the same {@link NodeAgent} and command line the Quarkus app runs) in a JVM of its own, started by
 * tests from the test class path so they can kill -9 it: the Quarkus runner jar does not exist yet when tests run.
 * Writes "ready" to the file named by -Dreflex.test.ready once started.
 */
public final class LocalAgentMain {
  public static void main(String[] args) throws Exception {
    AgentCommand cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs(args);
    AgentSettings s = cmd.settings();
    Config config = Config.fromKubeconfig(Files.readString(Path.of(System.getenv("KUBECONFIG"))));
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    String fake = System.getProperty("reflex.test.calibrator", ""); // fake:SECONDS: a stand-in (FakeCalibrationRunner)
    NodeAgent agent = (fake.startsWith("fake:")
        ? new NodeAgent(client, s, null, new FakeCalibrationRunner(Double.parseDouble(fake.substring(5))))
        : new NodeAgent(client, s, null)).start();
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close));
    String ready = System.getProperty("reflex.test.ready");
    if (ready != null) Files.writeString(Path.of(ready), "ready");
    Thread.currentThread().join();
  }
}
