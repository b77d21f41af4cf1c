"""Orders and node jobs of the simulated ModelArts (a mixin of Cloud): a pool change is an order
with one item per resource, a node operation a job with one entry per node; both finish on timers."""
import json

from .cloud_base import ms

ORDER_PENDING_SECONDS = 30


class OrdersAndJobs:
    # ---- orders and jobs ------------------------------------------------------------------------
    def _new_order(self, pool, operation, init_counts, spec_counts):
        name = "order.%s-%s" % (pool["display_name"], self._suffix())
        now = self.world.now()
        self.state["orders"][name] = {
            "orderName": name, "orderId": self._uuid().replace("-", ""), "resourceName": pool["id"],
            "resourceDisplayName": pool["display_name"], "workspaceId": "0", "operation": operation,
            "phase": "pending", "failReason": "", "creationTimestamp": ms(now), "beginTimestamp": 0,
            "endTimestamp": 0, "initCount": init_counts, "specCount": spec_counts, "resultCount": [],
            "billingMode": "0", "items": {}, "open": 0}
        self.world.schedule(ORDER_PENDING_SECONDS, "order_processing", order=name)
        pool["labels"]["os.modelarts/order.name"] = name
        return name

    def _order_item(self, order_name, resource_name, action):
        order = self.state["orders"][order_name]
        stamp = str(ms(self.world.now()))
        order["items"][resource_name] = {"resourceName": resource_name, "action": action, "status": "processing",
                                         "beginTimestamp": stamp, "updateTimestamp": stamp, "message": ""}
        order["open"] += 1

    def _finish_item(self, order_name, resource_name, ok, message=""):
        order = self.state["orders"].get(order_name)
        if not order or resource_name not in order["items"]:
            return
        item = order["items"][resource_name]
        if item["status"] != "processing":
            return
        item.update(status="succeed" if ok else "failed", message=message,
                    updateTimestamp=str(ms(self.world.now())))
        order["open"] -= 1
        if order["open"] == 0 and order["phase"] == "processing" and not self._waits_for_pool(order):
            self._finish_order(order)

    def _waits_for_pool(self, order):
        """A create order completes only once its pool is provisioned, even if its nodes were faster."""
        pool = self.state["pools"].get(order["resourceName"])
        return order.get("operation") == "apply" and pool is not None and pool["phase"] == "Creating"

    def _finish_order(self, order):
        failed = [i for i in order["items"].values() if i["status"] == "failed"]
        if order.get("fail_reason"):
            order["phase"], order["failReason"] = "failed", order["fail_reason"]
        elif failed and len(failed) == len(order["items"]):
            order["phase"], order["failReason"] = "failed", failed[0]["message"]
        elif failed:
            order["phase"], order["failReason"] = "partialSuccessed", "%d of %d items failed: %s" % (
                len(failed), len(order["items"]), failed[0]["message"])
        else:
            order["phase"] = "successed"
        order["endTimestamp"] = ms(self.world.now())
        pool = self.state["pools"].get(order["resourceName"])
        if pool:
            order["resultCount"] = self._spec_counts(pool)
        self._history(kind="order", order=order["orderName"], pool_id=order["resourceName"], phase=order["phase"])

    def _on_order_processing(self, due, order):
        record = self.state["orders"].get(order)
        if not record or record["phase"] != "pending":
            return
        record["phase"] = "processing"
        record["beginTimestamp"] = ms(due)
        if record["open"] == 0:
            self._finish_order(record)

    def order_view(self, order, with_items=False):
        view = {k: v for k, v in order.items() if k not in ("items", "open", "fail_reason")}
        if with_items:
            view["items"] = list(order["items"].values())
        return view

    def _spec_counts(self, pool):
        return [{"flavor": np["resource"]["flavor"], "count": np["resource"]["count"],
                 "nodePool": np["name"]} for np in pool["node_pools"].values() if not np["deleting"]]

    def _new_job(self, pool, job_type, node_names, inputs):
        job_id = self._uuid()
        self.state["jobs"][job_id] = {
            "jobId": job_id, "jobName": "%s-%s" % (job_type, self._suffix()), "type": job_type, "phase": "Running",
            "suspend": False, "startTimestamp": ms(self.world.now()), "endTimestamp": 0,
            "involvedObjects": json.dumps({"pool": pool["id"], "nodes": node_names}),
            "inputs": json.dumps(inputs), "conditions": "[]", "message": "", "pool": pool["id"],
            "node_status": {n: "Running" for n in node_names}}
        return job_id

    def _finish_job_node(self, job_id, node_name, ok, message=""):
        job = self.state["jobs"].get(job_id)
        if not job or job["node_status"].get(node_name) != "Running":
            return
        job["node_status"][node_name] = "Success" if ok else "Failed"
        job["conditions"] = json.dumps([{"node": n, "status": s} for n, s in job["node_status"].items()])
        if message:
            job["message"] = (job["message"] + "; " if job["message"] else "") + message
        if all(s != "Running" for s in job["node_status"].values()):
            job["phase"] = "Failed" if "Failed" in job["node_status"].values() else "Success"
            job["endTimestamp"] = ms(self.world.now())
            self._history(kind="job", job_id=job_id, type=job["type"], phase=job["phase"])

    def job_view(self, job):
        return {k: v for k, v in job.items() if k not in ("node_status", "pool")}
