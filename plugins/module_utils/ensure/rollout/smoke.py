# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The optional smoke check: the operator's command, run once per upgraded node before its uncordon."""

from __future__ import annotations

import os
import subprocess
import tempfile


class SmokeCheck:
    """One run of ``command`` for one node (environment: MODELARTS_LITE_POOL_ID, _NODE, _KUBE_NODE,
    _DRIVER_VERSION), its output kept for the failure reason."""

    def __init__(self, command, pool_id, track, target, started):
        env = dict(os.environ, MODELARTS_LITE_POOL_ID=pool_id, MODELARTS_LITE_NODE=track.name,
                   MODELARTS_LITE_KUBE_NODE=track.kube_name, MODELARTS_LITE_DRIVER_VERSION=target)
        self.output = tempfile.TemporaryFile()
        self.started = started
        try:
            # Popen, not run_command: the smoke check runs beside the rollout loop, polled, never awaited
            # (ansible-core 2.21's sanity pylint flags Popen; ansible-lint refuses that ignore in a file).
            self.process = subprocess.Popen(  # pylint: disable=ansible-bad-function
                list(command), stdout=self.output, stderr=subprocess.STDOUT, env=env)
        except OSError:
            self.output.close()
            raise

    def stop(self):
        """End the command now (the run is stopping): no process outlives the engine."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()

    def outcome(self, now, limit):
        """None while it runs within ``limit`` seconds, else (exit code or None when killed, output tail)."""
        code = self.process.poll()
        if code is None and now - self.started <= limit:
            return None
        if code is None:
            self.process.kill()
            self.process.wait()
        self.output.seek(0)
        tail = self.output.read()[-400:].decode("utf-8", "replace").strip()
        self.output.close()
        return code, tail
