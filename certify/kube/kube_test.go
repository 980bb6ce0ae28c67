package kube_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/certify/kube"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ns, name = "db", "starrocks-fe-1"

func pod(uid string, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
	p.Status.Phase = corev1.PodPending
	if ready {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

// statefulSet plays the pod's controller on the fake clientset: a deleted
// pod is recreated (a new UID, pending) after 100 ms and ready 200 ms later.
// It stops when the test ends.
func statefulSet(t *testing.T, client *fake.Clientset) *atomic.Int32 {
	var generation atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pods := client.CoreV1().Pods(ns)
		var since time.Time
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				if since.IsZero() {
					since = time.Now()
				} else if time.Since(since) > 100*time.Millisecond {
					g := generation.Add(1)
					_, _ = pods.Create(ctx, pod(fmt.Sprintf("uid-%d", g), false), metav1.CreateOptions{})
					since = time.Now()
				}
			case err == nil && p.Status.Phase == corev1.PodPending && time.Since(since) > 200*time.Millisecond:
				_, _ = pods.UpdateStatus(ctx, pod(string(p.UID), true), metav1.UpdateOptions{})
				since = time.Time{}
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &generation
}

func TestPodRestart(t *testing.T) {
	client := fake.NewClientset(pod("uid-0", true))
	gen := statefulSet(t, client)
	p := kube.NewPod(client, ns, name, &kube.PodOptions{Poll: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Ready(ctx), "the first pod is ready")

	start := time.Now()
	require.NoError(t, certify.Restart(ctx, p))
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "recreated after 100 ms, ready 200 ms later")
	got, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, types.UID("uid-1"), got.UID)
	assert.Equal(t, int32(1), gen.Load())
	var deletes []k8stesting.DeleteActionImpl
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok {
			deletes = append(deletes, d)
		}
	}
	require.Len(t, deletes, 1)
	assert.Nil(t, deletes[0].DeleteOptions.GracePeriodSeconds, "a restart keeps the grace period")
	assert.Equal(t, types.UID("uid-0"), *deletes[0].DeleteOptions.Preconditions.UID)
}

func TestPodKillThenStart(t *testing.T) {
	client := fake.NewClientset(pod("uid-0", true))
	statefulSet(t, client)
	p := kube.NewPod(client, ns, name, &kube.PodOptions{Poll: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Kill(ctx))
	require.NoError(t, p.Start(ctx), "recreated by its controller")
	require.NoError(t, p.Ready(ctx))
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok {
			require.NotNil(t, d.DeleteOptions.GracePeriodSeconds)
			assert.Equal(t, int64(0), *d.DeleteOptions.GracePeriodSeconds, "kill: no grace period")
		}
	}
}

func TestPodNotReady(t *testing.T) {
	client := fake.NewClientset(pod("uid-0", false)) // no controller: never ready
	p := kube.NewPod(client, ns, name, &kube.PodOptions{Poll: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := p.Ready(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "db/starrocks-fe-1 not ready")

	err = kube.NewPod(client, ns, "missing", nil).Stop(context.Background())
	require.Error(t, err)
	assert.True(t, apierrors.IsNotFound(err))
}
