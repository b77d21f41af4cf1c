# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Filters of the system_disk_grow role: what to grow on a Lite Server, from the output of the host's
own tools (findmnt, lsblk, dumpe2fs / xfs_growfs -n, growpart, resize2fs / xfs_growfs).

The role runs the tools on the server and decides here, on the controller: a plan (or a refusal)
from one snapshot, then the growth growpart made or would make, then the result. Plain Python,
unit-tested against the tools' formats (tests/unit/plugins/filter/test_system_disk.py).
"""

from __future__ import annotations

import json
import re

# Which tool grows which file system, mounted (online). Anything else is refused before any change.
FS_TOOLS = {"ext2": "resize2fs", "ext3": "resize2fs", "ext4": "resize2fs", "xfs": "xfs_growfs"}
GIB = 1 << 30
# A file system within 8 MiB of its device's end is full-size: resize2fs and the XFS kernel code drop a
# last block group (under ~6.4 MiB with 4k blocks) or allocation group too small to be worth its
# metadata, so "fill the device" can leave that much behind, and a rerun must not try again. EVS grows
# in whole GB, so a real expansion is always far above this.
FS_SLACK_BYTES = 8 << 20
GROWPART = re.compile(r"^(CHANGED?|NOCHANGE):\s*(.*)$", re.M)
GROWPART_NEW = re.compile(r"new: size=(\d+)")
EXT_FIELD = re.compile(r"^(Block count|Block size):\s+(\d+)\s*$", re.M)
XFS_DATA = re.compile(r"^data\s+=\s+bsize=(\d+)\s+blocks=(\d+)", re.M)
RESIZE2FS_SIZE = re.compile(r"(?:is now|is already) (\d+) \((\d+)k\) blocks long")
XFS_CHANGED = re.compile(r"^data blocks changed from \d+ to (\d+)", re.M)


class SystemDiskError(ValueError):
    """Output that is not what the tool prints."""


def _json(text, key, tool):
    try:
        return json.loads(text)[key] if text.strip() else []
    except (ValueError, KeyError, TypeError):
        raise SystemDiskError("%s printed no JSON %r list: %r" % (tool, key, text[:200])) from None


def _devices(rows):
    for row in rows:
        yield row
        yield from _devices(row.get("children") or [])


def fs_size(fstype, text):
    """(block bytes, fs bytes) from `dumpe2fs -h` (ext*) or `xfs_growfs -n` / xfs_info (xfs)."""
    if FS_TOOLS.get(fstype) == "resize2fs":
        fields = dict(EXT_FIELD.findall(text))
        if set(fields) != {"Block count", "Block size"}:
            raise SystemDiskError("dumpe2fs -h printed no Block count / Block size: %r" % text[:200])
        block = int(fields["Block size"])
        return block, int(fields["Block count"]) * block
    match = XFS_DATA.search(text)
    if not match:
        raise SystemDiskError("xfs_growfs -n printed no data section geometry: %r" % text[:200])
    return int(match.group(1)), int(match.group(1)) * int(match.group(2))


def system_disk_plan(findmnt, lsblk, fs_text, mount, disk=None, disk_gb=None):
    """-> {"mount", "source", "fstype", "tool", "kind" (part|disk), "disk", "partition" (number or None),
    "sector_bytes", "disk_bytes", "device_bytes", "block_bytes", "fs_bytes", "size_command" and "grow_command"
    (argv of the commands that read and grow the file system), "refusal"}.

    ``findmnt``: `findmnt --json --bytes --nofsroot --output SOURCE,FSTYPE,TARGET --mountpoint <mount>`;
    ``lsblk``: `lsblk --json --bytes --paths --output NAME,PKNAME,TYPE,SIZE,LOG-SEC`; ``fs_text``: the file
    system's size (the output of ``size_command``); None plans without it (the sizes stay None).
    ``disk``: the device the mount must be on; ``disk_gb``: the size (GB) its disk must have (the EVS
    system disk's). ``refusal`` is empty, or says why nothing may be changed."""
    plan = {"mount": mount, "source": None, "fstype": None, "tool": None, "kind": None, "disk": None,
            "partition": None, "sector_bytes": 512, "disk_bytes": None, "device_bytes": None, "block_bytes": None,
            "fs_bytes": None, "size_command": None, "grow_command": None, "refusal": ""}
    mounts = _json(findmnt, "filesystems", "findmnt")
    if not mounts:
        return dict(plan, refusal="nothing is mounted at %s" % mount)
    source, fstype = mounts[0]["source"], mounts[0]["fstype"]
    plan.update(source=source, fstype=fstype, tool=FS_TOOLS.get(fstype))
    if plan["tool"] == "resize2fs":
        plan.update(size_command=["dumpe2fs", "-h", source], grow_command=["resize2fs", source])
    elif plan["tool"] == "xfs_growfs":
        plan.update(size_command=["xfs_growfs", "-n", mount], grow_command=["xfs_growfs", mount])
    else:
        return dict(plan, refusal="%s (%s) holds a %s file system; this role grows ext2, ext3 and ext4 (resize2fs) "
                                  "and xfs (xfs_growfs) only" % (mount, source, fstype))
    devices = {d["name"]: d for d in _devices(_json(lsblk, "blockdevices", "lsblk"))}
    device = devices.get(source)
    if device is None:
        return dict(plan, refusal="%s (mounted at %s) is not a block device lsblk lists" % (source, mount))
    plan.update(kind=device["type"], device_bytes=int(device["size"]), sector_bytes=int(device.get("log-sec") or 512))
    if device["type"] == "disk":
        plan.update(disk=source, disk_bytes=int(device["size"]))
    elif device["type"] == "part":
        parent = devices.get(device.get("pkname") or "")
        number = re.match(r"^%sp?(\d+)$" % re.escape(device.get("pkname") or ""), source)
        if parent is None or parent["type"] != "disk" or number is None:
            return dict(plan, refusal="%s (mounted at %s) is not a numbered partition of a disk (parent %s)"
                                      % (source, mount, device.get("pkname")))
        plan.update(disk=parent["name"], disk_bytes=int(parent["size"]), partition=int(number.group(1)))
    else:
        return dict(plan, refusal="%s (mounted at %s) is a %s device; this role grows a partition or a whole disk, "
                                  "not LVM, RAID or encrypted volumes" % (source, mount, device["type"]))
    if disk and plan["disk"] != disk:
        return dict(plan, refusal="%s is on %s, not on %s (system_disk_grow_disk)" % (mount, plan["disk"], disk))
    if disk_gb is not None and plan["disk_bytes"] != int(disk_gb) * GIB:
        return dict(plan, refusal=(
            "%s (under %s) is %s bytes, but the server's EVS system disk is %s GB (%d bytes): either %s is not on "
            "the system disk, or the kernel has not picked up the new size yet (rescan the disk, e.g. echo 1 > "
            "/sys/class/block/%s/device/rescan)") % (plan["disk"], mount, plan["disk_bytes"], disk_gb,
                                                     int(disk_gb) * GIB, mount, plan["disk"].rsplit("/", 1)[-1]))
    if fs_text is None:
        return plan
    block, size = fs_size(fstype, fs_text)
    return dict(plan, block_bytes=block, fs_bytes=size)


def system_disk_growth(plan, growpart_output="", pending_disk_gb=None):
    """What the partition step did or would do: -> {"partition_changed", "disk_bytes", "device_bytes", "fs_grows"}.

    ``growpart_output``: growpart's stdout (CHANGED / CHANGE with --dry-run / NOCHANGE); empty for a file
    system on a whole disk. ``pending_disk_gb``: in check mode, the size an EVS expansion would give the
    disk; the partition then grows by as much as the disk (growpart's own arithmetic is not repeated)."""
    device, disk = plan["device_bytes"], plan["disk_bytes"]
    changed = False
    if pending_disk_gb is not None and int(pending_disk_gb) * GIB > plan["disk_bytes"]:
        disk = int(pending_disk_gb) * GIB
        device += disk - plan["disk_bytes"]
        changed = plan["kind"] == "part"
    elif plan["kind"] == "part":
        match = GROWPART.search(growpart_output or "")
        if match is None:
            raise SystemDiskError("growpart printed neither CHANGED nor NOCHANGE: %r" % (growpart_output or "")[:300])
        if match.group(1) != "NOCHANGE":
            changed = True
            device = int(GROWPART_NEW.search(match.group(2)).group(1)) * plan["sector_bytes"]
    return {"partition_changed": changed, "disk_bytes": disk, "device_bytes": device,
            "fs_grows": device - plan["fs_bytes"] >= FS_SLACK_BYTES}


def system_disk_result(plan, growth, fs_output=None):
    """The outcome: -> {"mount", "disk", "partition", "filesystem", "tool", "disk_bytes", "device_bytes_before",
    "device_bytes", "fs_bytes_before", "fs_bytes", "partition_changed", "fs_changed", "full_size"}.

    ``fs_output``: what resize2fs / xfs_growfs printed (stdout and stderr), None when it did not run
    (nothing to grow, or check mode: the growth growpart predicted is then the result)."""
    fs_bytes = plan["fs_bytes"]
    if fs_output is not None:
        if plan["tool"] == "resize2fs":
            match = RESIZE2FS_SIZE.search(fs_output)
            if match is None:
                raise SystemDiskError("resize2fs printed no new size: %r" % fs_output[:300])
            fs_bytes = int(match.group(1)) * int(match.group(2)) * 1024
        else:
            match = XFS_CHANGED.search(fs_output)
            fs_bytes = int(match.group(1)) * plan["block_bytes"] if match else plan["fs_bytes"]
    elif growth["fs_grows"]:
        fs_bytes = growth["device_bytes"] // plan["block_bytes"] * plan["block_bytes"]
    return {"mount": plan["mount"], "disk": plan["disk"], "partition": plan["partition"], "source": plan["source"],
            "filesystem": plan["fstype"], "tool": plan["tool"], "disk_bytes": growth["disk_bytes"],
            "device_bytes_before": plan["device_bytes"], "device_bytes": growth["device_bytes"],
            "fs_bytes_before": plan["fs_bytes"], "fs_bytes": fs_bytes,
            "partition_changed": growth["partition_changed"], "fs_changed": fs_bytes != plan["fs_bytes"],
            "full_size": growth["device_bytes"] - fs_bytes < FS_SLACK_BYTES}


class FilterModule:
    def filters(self):
        return {"system_disk_plan": system_disk_plan, "system_disk_growth": system_disk_growth,
                "system_disk_result": system_disk_result}
