"""Stand-ins for the block device tools a Lite Server's system disk is grown with: ``lsblk``,
``findmnt``, ``growpart`` (cloud-guest-utils), ``resize2fs`` and ``dumpe2fs`` (e2fsprogs) and
``xfs_growfs`` (xfsprogs).

The simulated hosts have no block devices of their own. Their system disk is the simulated server's
EVS system volume: its size is what the simulator reports for the server's ROOT volume (admin
``GET /_sim/system-disk``, read only and not audited), so a disk grown through EVS
(``lite_server_disk``) is what the host's tools then see, as on a real server whose kernel has picked up
the new capacity. The partition table and the file systems are the host's own state,
``<root>/etc/modelarts-sim/disk.json`` (written by ``sshworld.SshWorld.add_host``): a GPT disk
``/dev/sda`` with an EFI partition and the root partition behind it.

Outputs, messages and exit codes follow the real tools (util-linux 2.38, cloud-guest-utils 0.33
with its sfdisk resizer, e2fsprogs 1.47, xfsprogs 6.1); the tools keep their own rules: growpart
leaves a partition alone when it could grow by less than 1 MiB (its fudge), resize2fs and the XFS
kernel code drop a last block group / allocation group too small to hold its own metadata.

Run as ``python -m modelarts_sim.blockdev <tool> ARGS``; the per-host wrapper scripts do that.
"""
import json
import os
import ssl
import sys
import urllib.request

SECTOR = 512
GIB = 1 << 30
STATE = ("etc", "modelarts-sim", "disk.json")
EFI_SECTORS = 1228800            # a 600 MiB EFI system partition at 2048, as cloud images lay it out
GPT_BACKUP_SECTORS = 33          # the secondary GPT at the end of the disk
GROWPART_FUDGE_SECTORS = 2048    # growpart leaves a partition alone that could grow by less than 1 MiB
EXT4_BLOCKS_PER_GROUP = 32768
EXT4_SMALL_GROUP = 564           # resize2fs drops a last group under its overhead + 50 blocks
XFS_MIN_AG_BLOCKS = 64           # the kernel drops a last allocation group under 64 blocks
E2FSPROGS = "1.47.0 (5-Feb-2023)"


class ToolError(Exception):
    """Exit the tool with ``code`` after printing ``message`` to stderr (or stdout for growpart)."""

    def __init__(self, message, code=1, stream=None):
        super().__init__(message)
        self.code = code
        self.stream = stream


# ---- the host's disk ------------------------------------------------------------------------------
def state_path(root):
    return os.path.join(root, *STATE)


def load(root):
    path = state_path(root)
    if not os.path.exists(path):
        raise ToolError("this simulated host has no system disk (no %s)" % path)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save(root, state):
    path = state_path(root)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def evs_size_gb(simulator_env, server_id):
    """The server's EVS system volume size (GB), from the simulator's admin API."""
    with open(simulator_env, encoding="utf-8") as handle:
        env = json.load(handle)
    request = urllib.request.Request("%s/system-disk?server=%s" % (env["admin_url"], server_id),
                                     headers={"Authorization": "Bearer " + env["admin_token"]})
    context = ssl.create_default_context(cafile=env["ca_path"])
    with urllib.request.urlopen(request, context=context, timeout=10) as response:  # nosec - the local simulator
        return json.load(response)["size"]


def new_disk(simulator_env, server_id, root_fstype="ext4"):
    """The disk.json of a host fresh from its image: the root partition and file system fill the disk."""
    sectors = evs_size_gb(simulator_env, server_id) * GIB // SECTOR
    root_start = 2048 + EFI_SECTORS
    root_sectors = sectors - GPT_BACKUP_SECTORS - 1 - root_start + 1
    block = 4096
    root = {"number": 2, "start": root_start, "sectors": root_sectors, "fstype": root_fstype, "mount": "/",
            "block": block, "blocks": fs_blocks_for(root_fstype, root_sectors * SECTOR // block, None)}
    if root_fstype == "xfs":
        root["agsize"] = -(-root["blocks"] // 4)   # mkfs.xfs: four allocation groups
    return {"disk": "/dev/sda", "server_id": server_id, "simulator_env": simulator_env,
            "partitions": [{"number": 1, "start": 2048, "sectors": EFI_SECTORS, "fstype": "vfat",
                            "mount": "/boot/efi", "block": 4096, "blocks": EFI_SECTORS * SECTOR // 4096},
                           root]}


def fs_blocks_for(fstype, device_blocks, agsize):
    """The size a file system grown to fill ``device_blocks`` ends up with: its last group must be big enough."""
    if fstype in ("ext2", "ext3", "ext4"):
        remainder = device_blocks % EXT4_BLOCKS_PER_GROUP
        return device_blocks - remainder if 0 < remainder < EXT4_SMALL_GROUP else device_blocks
    if fstype == "xfs" and agsize:
        remainder = device_blocks % agsize
        return device_blocks - remainder if 0 < remainder < XFS_MIN_AG_BLOCKS else device_blocks
    return device_blocks


def disk_sectors(state):
    return evs_size_gb(state["simulator_env"], state["server_id"]) * GIB // SECTOR


def partition_path(state, part):
    return "%s%d" % (state["disk"], part["number"])


def by_device(state, device):
    for part in state["partitions"]:
        if partition_path(state, part) == device:
            return part
    return None


def by_mount(state, mount):
    for part in state["partitions"]:
        if part["mount"] == mount:
            return part
    return None


def fs_bytes(part):
    return part["blocks"] * part["block"]


def option_value(args, index, name):
    """The value of an option given as ``-o X``, ``--output X`` or ``--output=X``: -> (value, next index)."""
    arg = args[index]
    if "=" in arg and arg.startswith("--"):
        return arg.split("=", 1)[1], index + 1
    if index + 1 >= len(args):
        raise ToolError("%s: option requires an argument -- '%s'\nTry '%s --help' for more information."
                        % (name, arg.lstrip("-"), name))
    return args[index + 1], index + 2


# ---- lsblk / findmnt ------------------------------------------------------------------------------
def util_linux_json(key, rows):
    """JSON the way util-linux 2.38 prints it (libsmartcols): 3-space indent, `},{` between objects."""
    return '{\n   "%s": [\n%s\n   ]\n}' % (key, json_objects(rows, 2))


def json_objects(rows, depth):
    pad = " " * (3 * depth)
    bodies = []
    for row in rows:
        lines = []
        for name, value in row.items():
            if name == "children":
                lines.append('%s   "children": [\n%s\n%s   ]' % (pad, json_objects(value, depth + 2), pad))
            else:
                lines.append("%s   %s: %s" % (pad, json.dumps(name), json.dumps(value)))
        bodies.append(",\n".join(lines))
    return pad + "{\n" + ("\n%s},{\n" % pad).join(bodies) + "\n" + pad + "}"


def columns(spec, known, tool):
    names = [c.strip().upper() for c in spec.split(",") if c.strip()]
    for name in names:
        if name not in known:
            raise ToolError("%s: unknown column: %s" % (tool, name))
    return names


LSBLK_COLUMNS = ("NAME", "KNAME", "PATH", "PKNAME", "TYPE", "SIZE", "FSTYPE", "MOUNTPOINT", "LOG-SEC", "PHY-SEC",
                 "MAJ:MIN", "RM", "RO")


def lsblk(args, root):
    state = load(root)
    output, json_out, in_bytes, paths, nodeps, headings, devices = None, False, False, False, False, True, []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-J", "--json"):
            json_out = True
        elif arg in ("-b", "--bytes"):
            in_bytes = True
        elif arg in ("-p", "--paths"):
            paths = True
        elif arg in ("-d", "--nodeps"):
            nodeps = True
        elif arg in ("-n", "--noheadings"):
            headings = False
        elif arg in ("-o", "--output") or arg.startswith("--output="):
            output, index = option_value(args, index, "lsblk")
            continue
        elif arg.startswith("-"):
            raise ToolError("lsblk: unrecognized option '%s'\nTry 'lsblk --help' for more information." % arg)
        else:
            devices.append(arg)
        index += 1
    names = columns(output or "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINT", LSBLK_COLUMNS, "lsblk")
    sectors = disk_sectors(state)
    disk_name = state["disk"]

    def row(kind, path, size, parent=None, part=None):
        values = {"NAME": path if paths else os.path.basename(path), "KNAME": path if paths else os.path.basename(path),
                  "PATH": path, "PKNAME": (parent if paths else os.path.basename(parent)) if parent else None,
                  "TYPE": kind, "SIZE": size if in_bytes else human(size),
                  "FSTYPE": part["fstype"] if part else None, "MOUNTPOINT": part["mount"] if part else None,
                  "LOG-SEC": SECTOR, "PHY-SEC": 4096, "MAJ:MIN": "8:%d" % (part["number"] if part else 0),
                  "RM": False, "RO": False}
        return {name.lower(): values[name] for name in names}

    parts = [row("part", partition_path(state, p), p["sectors"] * SECTOR, disk_name, p) for p in state["partitions"]]
    disk = row("disk", disk_name, sectors * SECTOR)
    if not nodeps:
        disk["children"] = parts
    rows = [disk]
    if devices:
        rows = []
        for device in devices:
            if device == disk_name:
                rows.append(disk)
            elif by_device(state, device):
                rows.append(parts[state["partitions"].index(by_device(state, device))])
            else:
                print("lsblk: %s: not a block device" % device, file=sys.stderr)
        if not rows:
            return 32
    if json_out:
        print(util_linux_json("blockdevices", rows))
    else:
        flat = [r for d in rows for r in [d] + d.get("children", [])]
        table(names, [[r[n.lower()] for n in names] for r in flat], headings)
    return 0 if len(rows) == len(devices) or not devices else 64


def human(size):
    for unit, scale in (("T", 1 << 40), ("G", GIB), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale:
            value = size / scale
            return ("%d%s" % (value, unit)) if value == int(value) else ("%.1f%s" % (value, unit))
    return "%dB" % size


def table(names, rows, headings=True):
    cells = [[("" if v is None else str(int(v)) if isinstance(v, bool) else str(v)) for v in r] for r in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    for line in ([names] if headings else []) + cells:
        print(" ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())


FINDMNT_COLUMNS = ("SOURCE", "TARGET", "FSTYPE", "SIZE", "OPTIONS", "FSROOT")


def findmnt(args, root):
    state = load(root)
    output, json_out, in_bytes, headings, wanted = None, False, False, True, None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-J", "--json"):
            json_out = True
        elif arg in ("-b", "--bytes"):
            in_bytes = True
        elif arg in ("-n", "--noheadings"):
            headings = False
        elif arg == "--nofsroot":
            pass   # plain partitions carry no [/subvolume] suffix to strip
        elif arg in ("-o", "--output") or arg.startswith("--output="):
            output, index = option_value(args, index, "findmnt")
            continue
        elif arg in ("-M", "--mountpoint") or arg.startswith("--mountpoint="):
            wanted, index = option_value(args, index, "findmnt")
            continue
        elif arg.startswith("-"):
            raise ToolError("findmnt: unrecognized option '%s'\nTry 'findmnt --help' for more information." % arg)
        else:
            wanted = arg
        index += 1
    names = columns(output or "TARGET,SOURCE,FSTYPE,OPTIONS", FINDMNT_COLUMNS, "findmnt")
    mounted = [p for p in state["partitions"] if p["mount"] and wanted in (None, p["mount"], p["mount"] + "/")]
    if not mounted:
        return 1   # findmnt prints nothing for a path that is not a mount point

    def row(part):
        values = {"SOURCE": partition_path(state, part), "TARGET": part["mount"], "FSTYPE": part["fstype"],
                  "SIZE": fs_bytes(part) if in_bytes else human(fs_bytes(part)), "FSROOT": "/",
                  "OPTIONS": "rw,relatime" if part["fstype"] != "vfat" else "rw,relatime,fmask=0077,dmask=0077"}
        return {name.lower(): values[name] for name in names}

    rows = [row(p) for p in sorted(mounted, key=lambda p: p["mount"])]
    if json_out:
        print(util_linux_json("filesystems", rows))
    else:
        table(names, [[r[n.lower()] for n in names] for r in rows], headings)
    return 0


# ---- growpart (cloud-guest-utils 0.33, sfdisk resizer) --------------------------------------------
def growpart(args, root):
    dry_run, positional = False, []
    for arg in args:
        if arg in ("-N", "--dry-run"):
            dry_run = True
        elif arg.startswith("-"):
            raise ToolError("FAILED: unknown option %s" % arg, code=2, stream=sys.stdout)
        else:
            positional.append(arg)
    if len(positional) != 2:
        raise ToolError("must supply disk and partition-number", code=2)
    disk, number = positional
    state = load(root)
    if disk != state["disk"]:
        raise ToolError("FAILED: %s: does not exist" % disk, code=2, stream=sys.stdout)
    if not number.isdigit():
        raise ToolError("FAILED: partition-number must be a number", code=2, stream=sys.stdout)
    part = by_device(state, "%s%s" % (disk, number))
    if part is None:
        raise ToolError("FAILED: failed to get start and end for %s%s in %s" % (disk, number, disk), code=2,
                        stream=sys.stdout)
    sectors = disk_sectors(state)
    start, size = part["start"], part["sectors"]
    end = start + size - 1
    max_end = min([p["start"] for p in state["partitions"] if p["start"] > end] + [sectors]) - 1
    if max_end > sectors - GPT_BACKUP_SECTORS:
        max_end = sectors - GPT_BACKUP_SECTORS - 1
    if end == max_end:
        print("NOCHANGE: partition %s is size %d. it cannot be grown" % (number, size))
        return 1
    if end + GROWPART_FUDGE_SECTORS > max_end:
        print("NOCHANGE: partition %s could only be grown by %d [fudge=%d]"
              % (number, max_end - end, GROWPART_FUDGE_SECTORS))
        return 1
    new_size = max_end - start + 1
    info = "partition=%s start=%d old: size=%d end=%d new: size=%d end=%d" % (
        number, start, size, end, new_size, max_end)
    if dry_run:
        print("CHANGE: %s" % info)
        print("# === old sfdisk -d ===\n%s# === new sfdisk -d ===\n%s"
              % (sfdisk_dump(state, sectors), sfdisk_dump(state, sectors, {part["number"]: new_size})),
              file=sys.stderr, end="")
        return 0
    part["sectors"] = new_size
    save(root, state)
    print("CHANGED: %s" % info)
    return 0


def sfdisk_dump(state, sectors, sizes=None):
    lines = ["label: gpt", "device: %s" % state["disk"], "unit: sectors", "first-lba: 2048",
             "last-lba: %d" % (sectors - GPT_BACKUP_SECTORS - 1), "sector-size: 512", ""]
    for part in state["partitions"]:
        size = (sizes or {}).get(part["number"], part["sectors"])
        lines.append("%s : start=%12d, size=%12d" % (partition_path(state, part), part["start"], size))
    return "\n".join(lines) + "\n"


# ---- e2fsprogs ------------------------------------------------------------------------------------
def ext_partition(state, device, tool):
    part = by_device(state, device)
    if part is None:
        raise ToolError("%s: No such file or directory while trying to open %s\nCouldn't find valid filesystem "
                        "superblock." % (tool, device))
    if part["fstype"] not in ("ext2", "ext3", "ext4"):
        raise ToolError("%s: Bad magic number in super-block while trying to open %s\nCouldn't find valid "
                        "filesystem superblock." % (tool, device))
    return part


def resize2fs(args, root):
    print("resize2fs %s" % E2FSPROGS, file=sys.stderr)
    devices = [a for a in args if not a.startswith("-")]
    if len(devices) != 1:
        raise ToolError("Usage: resize2fs [-d debug_flags] [-f] [-F] [-M] [-P] [-p] device [-b|-s|new_size] "
                        "[-S RAID-stride] [-z undo_file]\n")
    state = load(root)
    part = ext_partition(state, devices[0], "resize2fs")
    kilo = part["block"] // 1024
    wanted = fs_blocks_for(part["fstype"], part["sectors"] * SECTOR // part["block"], None)
    if wanted == part["blocks"]:
        print("The filesystem is already %d (%dk) blocks long.  Nothing to do!\n" % (part["blocks"], kilo),
              file=sys.stderr)
        return 0
    if wanted < part["blocks"]:
        raise ToolError("resize2fs: On-line shrinking not supported")
    old_desc, new_desc = desc_blocks(part["blocks"], part["block"]), desc_blocks(wanted, part["block"])
    part["blocks"] = wanted
    save(root, state)
    print("Filesystem at %s is mounted on %s; on-line resizing required" % (devices[0], part["mount"]))
    print("old_desc_blocks = %d, new_desc_blocks = %d" % (old_desc, new_desc))
    print("The filesystem on %s is now %d (%dk) blocks long.\n" % (devices[0], wanted, kilo))
    return 0


def desc_blocks(blocks, block):
    groups = -(-blocks // EXT4_BLOCKS_PER_GROUP)
    return -(-groups // (block // 64))


def dumpe2fs(args, root):
    print("dumpe2fs %s" % E2FSPROGS, file=sys.stderr)
    devices = [a for a in args if not a.startswith("-")]
    if "-h" not in args or len(devices) != 1:
        raise ToolError("Usage: dumpe2fs [-bfghimxV] [-o superblock=<num>] [-o blocksize=<num>] device")
    part = ext_partition(load(root), devices[0], "dumpe2fs")
    blocks, groups = part["blocks"], -(-part["blocks"] // EXT4_BLOCKS_PER_GROUP)
    inodes = groups * 8192
    fields = [
        ("Filesystem volume name", "cloudimg-rootfs"), ("Last mounted on", part["mount"]),
        ("Filesystem magic number", "0xEF53"), ("Filesystem revision #", "1 (dynamic)"),
        ("Filesystem features", "has_journal ext_attr resize_inode dir_index filetype needs_recovery extent 64bit "
                                "flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum"),
        ("Default mount options", "user_xattr acl"), ("Filesystem state", "clean"), ("Errors behavior", "Continue"),
        ("Filesystem OS type", "Linux"), ("Inode count", inodes), ("Block count", blocks),
        ("Reserved block count", blocks // 20), ("Free blocks", blocks - blocks // 50 - groups * 514),
        ("Free inodes", inodes - 61000), ("First block", 0), ("Block size", part["block"]),
        ("Fragment size", part["block"]), ("Group descriptor size", 64), ("Reserved GDT blocks", 1024),
        ("Blocks per group", EXT4_BLOCKS_PER_GROUP), ("Fragments per group", EXT4_BLOCKS_PER_GROUP),
        ("Inodes per group", 8192), ("Inode blocks per group", 512), ("Flex block group size", 16),
        ("Mount count", 3), ("Maximum mount count", -1), ("Inode size", 256), ("Journal backup", "inode blocks"),
    ]
    for name, value in fields:
        print("%-26s%s" % (name + ":", value))
    print()
    return 0


# ---- xfsprogs -------------------------------------------------------------------------------------
def xfs_geometry(device, part):
    agcount = -(-part["blocks"] // part["agsize"])
    return "\n".join([
        "meta-data=%-22s isize=512    agcount=%d, agsize=%d blks" % (device, agcount, part["agsize"]),
        "         =                       sectsz=512   attr=2, projid32bit=1",
        "         =                       crc=1        finobt=1, sparse=1, rmapbt=0",
        "         =                       reflink=1    bigtime=1 inobtcount=1 nrext64=0",
        "data     =                       bsize=%-6d blocks=%d, imaxpct=25" % (part["block"], part["blocks"]),
        "         =                       sunit=0      swidth=0 blks",
        "naming   =version 2              bsize=4096   ascii-ci=0, ftype=1",
        "log      =internal log           bsize=%-6d blocks=16384, version=2" % part["block"],
        "         =                       sectsz=512   sunit=0 blks, lazy-count=1",
        "realtime =none                   extsz=4096   blocks=0, rtextents=0"])


def xfs_growfs(args, root):
    no_change = "-n" in args
    targets = [a for a in args if not a.startswith("-")]
    if len(targets) != 1:
        raise ToolError("Usage: xfs_growfs [options] mountpoint")
    state = load(root)
    part = by_mount(state, targets[0]) or by_device(state, targets[0])
    if part is None or part["fstype"] != "xfs":
        raise ToolError("xfs_growfs: %s is not a mounted XFS filesystem" % targets[0])
    print(xfs_geometry(partition_path(state, part), part))
    if no_change:
        return 0
    wanted = fs_blocks_for("xfs", part["sectors"] * SECTOR // part["block"], part["agsize"])
    if wanted > part["blocks"]:
        print("data blocks changed from %d to %d" % (part["blocks"], wanted))
        part["blocks"] = wanted
        save(root, state)
    return 0


TOOLS = {"lsblk": lsblk, "findmnt": findmnt, "growpart": growpart, "resize2fs": resize2fs, "dumpe2fs": dumpe2fs,
         "xfs_growfs": xfs_growfs}


def main(argv=None, root=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in TOOLS:
        print("usage: python -m modelarts_sim.blockdev {%s} ARGS" % ",".join(sorted(TOOLS)), file=sys.stderr)
        return 2
    try:
        return TOOLS[argv[0]](argv[1:], root or os.environ.get("LITE_SERVER_ROOT", "/"))
    except ToolError as error:
        print(str(error), file=error.stream or sys.stderr)
        return error.code


if __name__ == "__main__":
    sys.exit(main())
