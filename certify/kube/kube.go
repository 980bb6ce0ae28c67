// Package kube is the certify.Target of a Kubernetes pod, built on client-go.
// It lives apart from package certify so that certify's importers do not
// link client-go.
//
// A Pod target acts on one pod by name, in the way of a StatefulSet's pods
// (a database's frontends and backends usually are): its controller
// recreates a deleted pod under the same name. Stop deletes the pod with its
// grace period and waits until it is gone; Kill deletes it at once (grace
// period 0); Start waits until the controller has recreated it; Restart
// deletes it and waits until a new pod (another UID) is ready; Ready waits
// until the pod is running with its Ready condition true.
//
//	t := kube.NewPod(clientset, "db", "starrocks-fe-1", nil)
//	recipe.Targets["fe1"] = certify.TargetSpec{Target: t}
//
// Pod keeps no goroutine: every method polls the API server until its
// condition holds or ctx ends, and then returns ctx's error wrapped. It is
// safe for concurrent use.
package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/sqlshadow/sqlshadow/certify"
)

// PodOptions configure a Pod target.
type PodOptions struct {
	// Poll is the pause between checks of the pod. Default 500 ms.
	Poll time.Duration
}

// Pod is a certify.Target for one pod of a controller that recreates it
// under the same name (a StatefulSet).
type Pod struct {
	client    kubernetes.Interface
	namespace string
	name      string
	poll      time.Duration

	mu      sync.Mutex
	deleted types.UID // the UID of the pod deleted last: Start and Ready wait for another
}

var (
	_ certify.Target    = (*Pod)(nil)
	_ certify.Restarter = (*Pod)(nil)
)

// NewPod returns the target of the pod name in namespace.
func NewPod(client kubernetes.Interface, namespace, name string, opts *PodOptions) *Pod {
	p := &Pod{client: client, namespace: namespace, name: name, poll: 500 * time.Millisecond}
	if opts != nil && opts.Poll > 0 {
		p.poll = opts.Poll
	}
	return p
}

// Stop deletes the pod with its grace period and waits until it is gone.
func (p *Pod) Stop(ctx context.Context) error { return p.delete(ctx, nil) }

// Kill deletes the pod at once (grace period 0) and waits until it is gone.
func (p *Pod) Kill(ctx context.Context) error {
	zero := int64(0)
	return p.delete(ctx, &zero)
}

// Start waits until the pod's controller has recreated it (a pod of
// another UID than the one deleted last exists).
func (p *Pod) Start(ctx context.Context) error {
	return p.wait(ctx, "recreated", func(pod *corev1.Pod) bool { return pod != nil && pod.UID != p.lastDeleted() })
}

// Restart deletes the pod and waits until a new one is ready.
func (p *Pod) Restart(ctx context.Context) error {
	if err := p.delete(ctx, nil); err != nil {
		return err
	}
	return p.Ready(ctx)
}

// Ready waits until the pod (another one than the one deleted last) is
// running with its Ready condition true.
func (p *Pod) Ready(ctx context.Context) error {
	return p.wait(ctx, "ready", func(pod *corev1.Pod) bool {
		if pod == nil || pod.UID == p.lastDeleted() || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning {
			return false
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
}

func (p *Pod) lastDeleted() types.UID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deleted
}

// delete deletes the pod (grace nil: its own grace period) and waits until
// the pod of that UID is gone.
func (p *Pod) delete(ctx context.Context, grace *int64) error {
	pods := p.client.CoreV1().Pods(p.namespace)
	pod, err := pods.Get(ctx, p.name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("kube: get pod %s/%s: %w", p.namespace, p.name, err)
	}
	uid := pod.UID
	p.mu.Lock()
	p.deleted = uid
	p.mu.Unlock()
	err = pods.Delete(ctx, p.name, metav1.DeleteOptions{GracePeriodSeconds: grace, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("kube: delete pod %s/%s: %w", p.namespace, p.name, err)
	}
	return p.wait(ctx, "gone", func(pod *corev1.Pod) bool { return pod == nil || pod.UID != uid })
}

// wait polls the pod until cond holds (cond gets nil when there is no pod).
func (p *Pod) wait(ctx context.Context, what string, cond func(*corev1.Pod) bool) error {
	pods := p.client.CoreV1().Pods(p.namespace)
	t := time.NewTicker(p.poll)
	defer t.Stop()
	for {
		pod, err := pods.Get(ctx, p.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			pod, err = nil, nil
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("kube: get pod %s/%s: %w", p.namespace, p.name, err)
		}
		if err == nil && cond(pod) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube: pod %s/%s not %s: %w", p.namespace, p.name, what, ctx.Err())
		case <-t.C:
		}
	}
}
