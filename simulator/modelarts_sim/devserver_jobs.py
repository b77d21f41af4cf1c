"""Dev-server jobs and scheduled events of the simulated Lite Server API (a mixin of DevServers):
batch jobs over servers, and the repair events an operator accepts."""
from datetime import datetime, timezone

from .cloud_base import ms
from .world import iso
from .devserver_rules import REPAIR_SCHEDULE_SECONDS, REPAIR_SECONDS, JOB_SECONDS, not_found, bad, not_allowed


class JobsAndEvents:
    # ---- dev-server jobs ------------------------------------------------------------------------
    def _new_job(self, body, seconds=JOB_SECONDS):
        now = self.world.now()
        job = {"id": self.cloud._uuid(), "name": body["name"], "type": body.get("type", "COMMON"),
               "description": body.get("description", ""), "items": body.get("items") or [],
               "user_name": "sim-user", "created": now, "updated": now, "deleted": False,
               "tasks": [{"id": self.cloud._uuid(), "server_id": s, "server_name": self.data["servers"][s]["name"],
                          "status": "PROCESSING", "message": "", "create_at": ms(now), "update_at": ms(now)}
                         for s in body["server_ids"]]}
        self.data["jobs"][job["id"]] = job
        self.world.schedule(seconds, "devjob_done", job_id=job["id"])
        return job

    def _on_job_done(self, due, job_id):
        job = self.data["jobs"].get(job_id)
        if not job:
            return
        for task in job["tasks"]:
            if task["status"] == "PROCESSING":
                task.update(status="SUCCESS", update_at=ms(due))
        job["updated"] = due

    def _job_status(self, job, listing):
        if job["deleted"]:
            return "DELETED"
        if any(t["status"] == "PROCESSING" for t in job["tasks"]):
            return "PROCESSING" if listing else "ACTIVE"
        return "FINISHED"

    def job_view(self, job, listing=False):
        view = {"id": job["id"], "name": job["name"], "type": job["type"], "status": self._job_status(job, listing),
                "description": job["description"], "user_name": job["user_name"],
                "abnormal_count": sum(1 for t in job["tasks"] if t["status"] == "FAILED"),
                "create_at": ms(job["created"]), "update_at": ms(job["updated"])}
        if not listing:
            view.update(items=job["items"], tasks=[dict(t) for t in job["tasks"]], template_id="")
        return view

    def create_job(self, request):
        body = self._body(request)
        for key in ("name", "server_ids", "type", "items"):
            if not body.get(key):
                raise bad("Bad request: %s is required." % key)
        for server_id in body["server_ids"]:
            server = self.server(server_id)
            if self._visible(server) != "RUNNING":
                raise not_allowed("Dev server %s is %s; jobs run on RUNNING servers only."
                                  % (server_id, self._visible(server)))
        return 200, self.job_view(self._new_job(body))

    def list_jobs(self, request):
        jobs = [j for j in self.data["jobs"].values()
                if (not request.query_value("status") or self._job_status(j, True) == request.query_value("status"))
                and (not request.query_value("name") or j["name"] == request.query_value("name"))]
        return 200, self._whole(jobs, lambda j: self.job_view(j, listing=True))

    def show_job(self, request, job_id):
        job = self.data["jobs"].get(job_id)
        if job is None:
            raise not_found("Job", job_id)
        return 200, self.job_view(job)

    def delete_jobs(self, request):
        body = self._body(request)
        ids = body.get("job_ids")
        if not isinstance(ids, list) or not ids:
            raise bad("Bad request: job_ids must be a non-empty list.")
        jobs = []
        for job_id in ids:
            job = self.data["jobs"].get(job_id)
            if job is None:
                raise not_found("Job", job_id)
            jobs.append(job)
        for job in jobs:
            job["deleted"] = True
            job["updated"] = self.world.now()
            for task in job["tasks"]:
                if task["status"] == "PROCESSING":
                    task.update(status="FAILED", message="job deleted", update_at=ms(self.world.now()))
            self._history(kind="devserver_job", job_id=job["id"], status="DELETED")
        return 200, self._page(request, jobs, lambda j: self.job_view(j, listing=True))

    # ---- scheduled events (authorized repair) --------------------------------------------------
    @staticmethod
    def _list_param(request, key):
        """A list parameter as the SDK sends it: repeated keys (state=a&state=b). A comma list is one
        value that matches nothing, as in a real region."""
        return [v for v in request.query_values(key) if v]

    def event_view(self, event):
        return {k: v for k, v in event.items() if k != "token"}

    def list_events(self, request):
        states = self._list_param(request, "state")
        types = self._list_param(request, "type")
        wanted_id = request.query_value("id")
        node_name = request.query_value("nodeName")
        events = [e for e in self.data["events"].values()
                  if (not states or e["state"] in states) and (not types or e["type"] in types)
                  and (not wanted_id or e["id"] == wanted_id) and (not node_name or e["nodeName"] == node_name)]
        events.sort(key=lambda e: (e["publishTime"], e["id"]))
        try:
            limit = int(request.query_value("limit") or 100)
            offset = int(request.query_value("offset") or 0)
        except ValueError:
            raise bad("Bad request: limit and offset must be integers.") from None
        if not 1 <= limit <= 100:
            raise bad("Bad request: limit must be 1-100.")
        return 200, {"events": [self.event_view(e) for e in events[offset:offset + limit]], "count": len(events)}

    def accept_event(self, request, event_id):
        event = self.data["events"].get(event_id)
        if event is None:
            raise not_found("Scheduled event", event_id)
        body = self._body(request, required=False)
        if event["state"] != "inquiring":
            raise not_allowed("Scheduled event %s is %s; only an inquiring event can be authorized."
                              % (event_id, event["state"]))
        config = body.get("redeployConfig") or {}
        redeploy = config.get("type")
        if redeploy is not None and redeploy not in event["redeployType"]:
            raise bad("Bad request: redeployConfig.type must be one of %s." % ", ".join(event["redeployType"]))
        server = self.data["servers"].get(event["instanceId"])
        if redeploy == "SOFT" and server and self._visible(server) in ("ERROR", "CREATE_FAILED"):
            raise not_allowed("A SOFT redeploy is impossible while the server is unavailable (%s); authorize HARD."
                              % self._visible(server))
        delay = REPAIR_SCHEDULE_SECONDS
        if body.get("notBefore"):
            try:
                not_before = datetime.strptime(body["notBefore"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=timezone.utc).timestamp()
            except ValueError:
                raise bad("Bad request: notBefore must be YYYY-MM-DDTHH:MM:SSZ.") from None
            delay = max(delay, not_before - self.world.now())
            event["notBefore"] = body["notBefore"]
        event["state"] = "scheduled"
        event["redeploy"] = redeploy or event["redeployType"][0]
        event["token"] = self.world.next_serial()
        self._history(kind="scheduled_event", event=event_id, state="scheduled", previous_state="inquiring")
        self.world.schedule(delay, "event_step", event_id=event_id, token=event["token"])
        return 200, self.event_view(event)

    def _on_event_step(self, due, event_id, token):
        event = self.data["events"].get(event_id)
        if not event or event["token"] != token:
            return
        server = self.data["servers"].get(event["instanceId"])
        previous = event["state"]
        if event["state"] == "scheduled":
            event.update(state="executing", startTime=iso(due), jobProgress="0%")
            if server:
                server["token"] = self.world.next_serial()
                self._set_status(server, "REBOOTING")
            self.world.schedule(REPAIR_SECONDS * self.cloud.spread(event_id + "|repair"), "event_step",
                                event_id=event_id, token=token)
        elif event["state"] == "executing":
            failed = self._fails("repair", event["instanceId"], event["nodeName"])
            event.update(state="failed" if failed else "completed", finishTime=iso(due),
                         jobProgress="100%")
            if server:
                server["displayed_status"] = None
                self._set_status(server, "ERROR" if failed else "RUNNING")
        self._history(kind="scheduled_event", event=event_id, state=event["state"], previous_state=previous)
