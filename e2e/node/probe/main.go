// Command probe checks, from inside a pod, what a workload on the e2e/cluster node relies on: cluster DNS and
// the API server through the kubernetes Service. It prints one line per check and exits 1 if any failed.
//
//	probe [NAME...]   resolve each NAME (default kubernetes.default.svc), then GET /version from the API server
//	                  at https://kubernetes.default.svc with the pod's service account token and CA
//	probe sleep       block until SIGTERM (a long-running pod for exec and logs tests)
//
// Image reflex.local/probe (e2e/bin/build-node); pure Go resolver, so it honours the pod's resolv.conf
// (search path, ndots) like any libc-free client would.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	args := os.Args[1:]
	if len(args) == 1 && args[0] == "sleep" {
		fmt.Println("probe: sleeping until SIGTERM")
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
		<-sigs
		return
	}
	if len(args) == 0 {
		args = []string{"kubernetes.default.svc"}
	}
	ok := true
	for _, name := range args {
		ok = check("dns "+name, func() (string, error) { return resolve(name) }) && ok
	}
	ok = check("api https://kubernetes.default.svc/version", apiVersion) && ok
	if !ok {
		os.Exit(1)
	}
}

func check(what string, f func() (string, error)) bool {
	start := time.Now()
	res, err := f()
	ms := time.Since(start).Milliseconds()
	if err != nil {
		fmt.Printf("FAIL %s (%d ms): %v\n", what, ms, err)
		return false
	}
	fmt.Printf("ok   %s -> %s (%d ms)\n", what, res, ms)
	return true
}

func resolve(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return "", err
	}
	return strings.Join(addrs, ","), nil
}

func apiVersion() (string, error) {
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return "", err
	}
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return "", fmt.Errorf("no certificate in %s/ca.crt", saDir)
	}
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequest(http.MethodGet, "https://kubernetes.default.svc/version", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return strings.Join(strings.Fields(string(body)), " "), nil
}
