// Command netpol-agent enforces Kubernetes NetworkPolicies on the local cluster's real node with the controller of
// sigs.k8s.io/kube-network-policies (nftables + NFQUEUE), built by scripts/k8s/build-netpol.sh.
//
// The upstream command only runs inside a pod (in-cluster configuration) and stops cleanly on SIGINT alone; this
// one reads a kubeconfig of its own, enforces for one node (--hostname-override), uses a table name of its own,
// serves no metrics port, and removes its nftables table on SIGTERM too (the launcher stops components so).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the agent (required)")
	nodeName := flag.String("hostname-override", "", "name of the node whose pods are enforced (required)")
	table := flag.String("nftables-table", "streamspace-netpol", "name of the inet nftables table the agent owns")
	queueID := flag.Int("nfqueue-id", 100, "number of the NFQUEUE the first packet of each new connection is sent to")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "netpol-agent: --kubeconfig and --hostname-override are required")
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netpol-agent: kubeconfig %s: %v\n", *kubeconfig, err)
		os.Exit(1)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netpol-agent: %v\n", err)
		os.Exit(1)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	controller, err := networkpolicy.NewController(
		client,
		factory.Networking().V1().NetworkPolicies(),
		factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(),
		nil, nil, nil, nil,
		networkpolicy.Config{
			// Fail closed: while the agent is not reading the queue, new connections to or from pods that a
			// policy selects are dropped rather than let through.
			FailOpen:            false,
			QueueID:             *queueID,
			NodeName:            *nodeName,
			NetfilterBug1766Fix: true,
			NFTableName:         *table,
		},
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netpol-agent: %v\n", err)
		os.Exit(1)
	}
	done := make(chan error, 1)
	// Run syncs the informers, writes the table, reads the queue until ctx ends, then deletes the table.
	go func() { done <- controller.Run(ctx) }()
	factory.Start(ctx.Done())
	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "netpol-agent: %v\n", err)
		os.Exit(1)
	}
}
