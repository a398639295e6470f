package io.reflex.agent.cli;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.reflex.agent.config.AgentSettings;
import picocli.CommandLine;

/**
 * Entry point: parses the command line with picocli (before Quarkus starts, so a bad flag is a usage error, not a
 * stack trace), points Quarkus' HTTP server at the agent's address, then runs until SIGTERM.
 */
@QuarkusMain
public final class AgentMain implements QuarkusApplication {
  /** The parsed settings, for {@link io.reflex.agent.AgentService} (Quarkus creates beans after main has parsed). */
  private static volatile AgentSettings settings;

  public static AgentSettings settings() {
    return settings;
  }

  public static void main(String... args) {
    AgentCommand cmd = new AgentCommand();
    CommandLine cl = new CommandLine(cmd);
    try {
      CommandLine.ParseResult r = cl.parseArgs(args);
      if (r.isUsageHelpRequested()) {
        cl.usage(System.out);
        return;
      }
      if (r.isVersionHelpRequested()) {
        cl.printVersionHelp(System.out);
        return;
      }
      settings = cmd.settings();
      String[] http = cmd.http(settings);
      System.setProperty("quarkus.http.host", http[0]);
      System.setProperty("quarkus.http.port", http[1]);
    } catch (CommandLine.ParameterException e) {
      System.err.println("reflex-node-agent: " + e.getMessage());
      cl.usage(System.err);
      System.exit(2);
    } catch (IllegalArgumentException e) {
      System.err.println("reflex-node-agent: " + e.getMessage());
      System.exit(2);
    }
    Quarkus.run(AgentMain.class, (code, t) -> {
      if (t != null) System.err.println("reflex-node-agent: " + t.getMessage());
      System.exit(code);
    });
  }

  @Override
  public int run(String... args) {
    Quarkus.waitForExit();
    return 0;
  }
}
