package io.reflex.operator;

import io.fabric8.kubernetes.client.Config;
import io.quarkus.kubernetes.client.KubernetesConfigCustomizer;
import jakarta.inject.Singleton;

/**
 * Works around a Fabric8 client behaviour that costs a kubeconfig re-read per API request: its TokenRefreshInterceptor
 * refreshes the Config (reads and parses the kubeconfig, certificates included) once its last refresh is a minute
 * old, but only records a refresh that yielded a token. With client-certificate authentication (a kubeconfig
 * without any token, as the e2e harness and many local setups use) no refresh ever yields one, so after the first
 * minute every request re-parses the kubeconfig (5% of the operator's CPU in a 1,000-tenant run, most of it in
 * longer runs). An empty user token makes the interceptor skip refreshing and send no Authorization header; it is
 * set only when the Config has no token or token source of any kind, so token, exec and in-cluster (service
 * account) authentication keep refreshing as before.
 */
@Singleton
public class ClientConfig implements KubernetesConfigCustomizer {
  @Override
  public void customize(Config config) {
    noRefreshForCertificateAuth(config);
  }

  public static void noRefreshForCertificateAuth(Config c) {
    boolean certificate = c.getClientCertData() != null || c.getClientCertFile() != null;
    boolean anyToken = c.getOauthToken() != null || c.getAutoOAuthToken() != null || c.getOauthTokenProvider() != null
        || c.getAuthProvider() != null || (c.getUsername() != null && c.getPassword() != null);
    if (certificate && !anyToken) {
      c.setOauthToken("");
    }
  }
}
