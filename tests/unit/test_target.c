/* target: the container id each runtime writes into /proc/PID/cgroup is found, and a
 * host process's cgroup gives none; a process in golat's own namespaces is reached as
 * it is (no root, the same pid). The lines are those the runtimes write (podman 4 with
 * runc and cgroupfs, Docker with systemd, containerd and CRI-O under the kubelet, with
 * systemd and cgroupfs drivers, cgroup v1 Docker). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

#define ID "48441fc6f81c491bb652e9bfe76c57593bcda4b4e1592c5eebc9fd33422b7fb9"
#define ID2 "7b16ab5aff28d644e73c3b08aa6ef8d8b6984e34b0aa140f94c55aaadac27348"

static int failures;

static void expect(const char *what, const char *cgroup, const char *want)
{
	char got[72];
	target_container_id(cgroup, got, sizeof(got));
	if (strcmp(got, want) != 0) {
		printf("FAIL: %s: got '%s', want '%s'\n", what, got, want);
		failures++;
	} else {
		printf("ok: %s\n", what);
	}
}

static void container_ids(void)
{
	expect("podman (cgroupfs, v2)", "0::/libpod_parent/libpod-" ID "\n", ID);
	expect("podman (cgroupfs, v1 and v2 lines, as this machine's)",
	       "9:name=systemd:/libpod_parent/libpod-" ID "\n8:pids:/libpod_parent/libpod-" ID "\n"
	       "1:cpu:/libpod_parent/libpod-" ID "\n0::/libpod_parent/libpod-" ID "\n",
	       ID);
	expect("podman (systemd, payload in container/)", "0::/machine.slice/libpod-" ID ".scope/container\n", ID);
	expect("Docker (systemd, v2)", "0::/system.slice/docker-" ID ".scope\n", ID);
	expect("Docker (cgroup v1)", "12:memory:/docker/" ID "\n11:pids:/docker/" ID "\n", ID);
	expect("containerd under the kubelet (systemd)",
	       "0::/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod0c5f1e2a_7b3d_4c1e_9f2a_1b2c3d4e5f60.slice/cri-containerd-" ID ".scope\n",
	       ID);
	expect("containerd under the kubelet (cgroupfs)",
	       "0::/kubepods/besteffort/pod0c5f1e2a-7b3d-4c1e-9f2a-1b2c3d4e5f60/" ID "\n", ID);
	expect("CRI-O", "0::/kubepods.slice/kubepods-besteffort.slice/"
			"kubepods-besteffort-pod0c5f1e2a_7b3d_4c1e_9f2a_1b2c3d4e5f60.slice/crio-" ID ".scope\n",
	       ID);
	expect("a container in a pod's cgroup: the innermost id", "0::/libpod_parent/libpod-" ID2 "/libpod-" ID "\n", ID);
	expect("no trailing newline", "0::/system.slice/docker-" ID ".scope", ID);
	expect("a host process (systemd user session)", "0::/user.slice/user-1000.slice/session-3.scope\n", "");
	expect("a host service", "0::/system.slice/ssh.service\n", "");
	expect("inside a container with its own cgroup namespace", "0::/\n", "");
	expect("65 hex digits are no id", "0::/system.slice/docker-" ID "a.scope\n", "");
	expect("63 hex digits are no id",
	       "0::/docker/48441fc6f81c491bb652e9bfe76c57593bcda4b4e1592c5eebc9fd33422b7fb\n", "");
	expect("empty", "", "");
	char small[13];
	target_container_id("0::/system.slice/docker-" ID ".scope\n", small, sizeof(small));
	if (strcmp(small, "48441fc6f81c") != 0) {
		printf("FAIL: a short buffer gets the id's start: '%s'\n", small);
		failures++;
	}
}

/* golat's own process: its own namespaces, no root to go through. */
static void self(void)
{
	struct target t;
	char err[256], path[128], here[256], inside[256];
	int rc = target_open(&t, getpid(), err, sizeof(err));
	if (rc != 0 || t.pid != getpid() || t.nspid != getpid() || t.other_mnt || t.root[0] ||
	    t.uid != geteuid()) {
		printf("FAIL: target_open(self): rc %d (%s), nspid %d, other_mnt %d, root '%s'\n", rc, err,
		       (int)t.nspid, t.other_mnt, t.root);
		failures++;
	}
	if (target_path(&t, "/dev/shm/x", path, sizeof(path)) != 0 || strcmp(path, "/dev/shm/x") != 0) {
		printf("FAIL: target_path(self) '%s'\n", path);
		failures++;
	}
	if (target_stats(&t, 0, inside, here, sizeof(here)) != 0 || strcmp(inside, here) != 0 ||
	    strncmp(here, "/dev/shm/golat-", 15) != 0) {
		printf("FAIL: target_stats(self) '%s' '%s'\n", inside, here);
		failures++;
	}
	struct target p;
	if (target_peek(&p, getpid()) != 0 || p.nspid != getpid() || p.uid != geteuid()) {
		printf("FAIL: target_peek(self)\n");
		failures++;
	}
	if (target_peek(&p, 0x3fffffff) != -ESRCH) {
		printf("FAIL: target_peek of no process\n");
		failures++;
	}
	/* The scan leaves golat's own namespace out. */
	struct target_proc *procs;
	size_t n;
	if (target_scan(&procs, &n) != 0) {
		printf("FAIL: target_scan\n");
		failures++;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (procs[i].pid == getpid()) {
			printf("FAIL: target_scan lists golat's own process\n");
			failures++;
		}
	free(procs);
	printf("ok: self, and a scan of %zu processes in other mount namespaces\n", n);
}

int main(void)
{
	container_ids();
	self();
	if (failures)
		printf("%d failures\n", failures);
	return failures != 0;
}
