"""system_disk_grow's filters read the real tools' formats (as the simulator's stand-ins print them, and
samples of the real tools) and refuse what the role does not grow."""
import pytest

from ansible_collections.modelarts.lite.plugins.filter import system_disk as sd

GIB = 1 << 30
FINDMNT_EXT4 = """{
   "filesystems": [
      {
         "source": "/dev/sda2",
         "fstype": "ext4",
         "target": "/"
      }
   ]
}"""
LSBLK = """{
   "blockdevices": [
      {
         "name": "/dev/sda",
         "pkname": null,
         "type": "disk",
         "size": 322122547200,
         "log-sec": 512,
         "children": [
            {
               "name": "/dev/sda1",
               "pkname": "/dev/sda",
               "type": "part",
               "size": 629145600,
               "log-sec": 512
            },{
               "name": "/dev/sda2",
               "pkname": "/dev/sda",
               "type": "part",
               "size": 214118801408,
               "log-sec": 512
            }
         ]
      }
   ]
}"""
DUMPE2FS = "Filesystem volume name:   cloudimg-rootfs\nBlock count:              52274121\nBlock size:               4096\n"
XFS_GEOMETRY = """meta-data=/dev/sda2              isize=512    agcount=4, agsize=13068531 blks
data     =                       bsize=4096   blocks=52274121, imaxpct=25
log      =internal log           bsize=4096   blocks=16384, version=2
"""


LVM = LSBLK.replace('"/dev/sda2"', '"/dev/mapper/vg-root"').replace('"part",\n               "size": 2141', '"lvm",\n               "size": 2141')


def plan(findmnt=FINDMNT_EXT4, lsblk=LSBLK, fs_text=DUMPE2FS, **kwargs):
    return sd.system_disk_plan(findmnt, lsblk, fs_text, "/", **kwargs)


def test_ext4_partition_plan():
    result = plan()
    assert result["refusal"] == ""
    assert (result["disk"], result["partition"], result["kind"], result["tool"]) == ("/dev/sda", 2, "part", "resize2fs")
    assert result["disk_bytes"] == 300 * GIB and result["device_bytes"] == 214118801408
    assert result["fs_bytes"] == 52274121 * 4096 and result["block_bytes"] == 4096
    assert result["size_command"] == ["dumpe2fs", "-h", "/dev/sda2"] and result["grow_command"] == ["resize2fs", "/dev/sda2"]


def test_xfs_uses_the_mount_point():
    result = plan(findmnt=FINDMNT_EXT4.replace("ext4", "xfs"), fs_text=XFS_GEOMETRY)
    assert result["grow_command"] == ["xfs_growfs", "/"] and result["size_command"] == ["xfs_growfs", "-n", "/"]
    assert result["fs_bytes"] == 52274121 * 4096


def test_nvme_partition_number_and_whole_disk():
    nvme = LSBLK.replace("/dev/sda2", "/dev/nvme0n1p2").replace("/dev/sda", "/dev/nvme0n1")
    result = plan(findmnt=FINDMNT_EXT4.replace("/dev/sda2", "/dev/nvme0n1p2"), lsblk=nvme)
    assert (result["disk"], result["partition"]) == ("/dev/nvme0n1", 2)
    whole = plan(findmnt=FINDMNT_EXT4.replace("/dev/sda2", "/dev/sda"))
    assert whole["kind"] == "disk" and whole["partition"] is None and whole["disk"] == "/dev/sda"


@pytest.mark.parametrize("kwargs, words", [
    ({"findmnt": ""}, "nothing is mounted at /"),
    ({"findmnt": FINDMNT_EXT4.replace("ext4", "btrfs")}, "holds a btrfs file system"),
    ({"findmnt": FINDMNT_EXT4.replace("/dev/sda2", "/dev/mapper/vg-root"), "lsblk": LVM}, "is a lvm device"),
    ({"disk": "/dev/vdb"}, "/ is on /dev/sda, not on /dev/vdb"),
    ({"disk_gb": 400}, "the server's EVS system disk is 400 GB"),
])
def test_refusals(kwargs, words):
    assert words in plan(**kwargs)["refusal"]


def test_matching_evs_size_and_plan_without_fs_text():
    assert plan(disk_gb=300)["refusal"] == ""
    assert plan(fs_text=None)["fs_bytes"] is None


def test_growth_from_growpart():
    base = plan()
    grown = sd.system_disk_growth(base, "CHANGED: partition=2 start=1230848 old: size=418200784 end=419431631 "
                                        "new: size=627916000 end=629146847\n")
    assert grown == {"partition_changed": True, "disk_bytes": 300 * GIB, "device_bytes": 627916000 * 512, "fs_grows": True}
    dry = sd.system_disk_growth(base, "CHANGE: partition=2 start=1230848 old: size=1 end=2 new: size=627916000 end=3")
    assert dry["partition_changed"] and dry["device_bytes"] == 627916000 * 512
    same = sd.system_disk_growth(base, "NOCHANGE: partition 2 is size 418200784. it cannot be grown\n")
    assert same["partition_changed"] is False and same["device_bytes"] == base["device_bytes"]
    with pytest.raises(sd.SystemDiskError):
        sd.system_disk_growth(base, "FAILED: /dev/sda: does not exist")


def test_file_system_within_slack_is_full_size():
    base = dict(plan(), fs_bytes=214118801408 - sd.FS_SLACK_BYTES + 4096)
    assert sd.system_disk_growth(base, "NOCHANGE: partition 2 is size 1. it cannot be grown")["fs_grows"] is False
    behind = dict(plan(), fs_bytes=214118801408 - sd.FS_SLACK_BYTES)
    assert sd.system_disk_growth(behind, "NOCHANGE: partition 2 is size 1. it cannot be grown")["fs_grows"] is True


def test_pending_evs_growth_in_check_mode():
    growth = sd.system_disk_growth(plan(), "", pending_disk_gb=400)
    assert growth["partition_changed"] and growth["device_bytes"] == 214118801408 + 100 * GIB and growth["fs_grows"]
    assert growth["disk_bytes"] == 400 * GIB


def test_results_from_the_grow_tools():
    base = plan()
    growth = sd.system_disk_growth(base, "CHANGED: partition=2 start=1 old: size=1 end=1 new: size=627916000 end=2")
    out = ("resize2fs 1.47.0 (5-Feb-2023)\nFilesystem at /dev/sda2 is mounted on /; on-line resizing required\n"
           "old_desc_blocks = 25, new_desc_blocks = 38\nThe filesystem on /dev/sda2 is now 78489500 (4k) blocks long.\n")
    result = sd.system_disk_result(base, growth, out)
    assert result["fs_bytes"] == 78489500 * 4096 and result["fs_changed"] and result["full_size"]
    assert result["fs_bytes_before"] == 52274121 * 4096 and result["partition_changed"]
    xfs = plan(findmnt=FINDMNT_EXT4.replace("ext4", "xfs"), fs_text=XFS_GEOMETRY)
    grown = sd.system_disk_result(xfs, growth, XFS_GEOMETRY + "data blocks changed from 52274121 to 78489500\n")
    assert grown["fs_bytes"] == 78489500 * 4096 and grown["full_size"]
    unchanged = sd.system_disk_result(xfs, sd.system_disk_growth(xfs, "NOCHANGE: partition 2 is size 1. x"), None)
    assert unchanged["fs_changed"] is False


def run_tool(capsys, root, *argv):
    from modelarts_sim import blockdev
    code = blockdev.main(list(argv), str(root))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("fstype", ["ext4", "xfs"])
def test_stand_ins_grow_a_disk_evs_grew(monkeypatch, tmp_path, capsys, fstype):
    """The simulator's stand-ins, read by the filters: 200 GB image, EVS grows to 300, growpart then the fs."""
    from modelarts_sim import blockdev
    sizes = {"gb": 200}
    monkeypatch.setattr(blockdev, "evs_size_gb", lambda env, server: sizes["gb"])
    (tmp_path / "etc/modelarts-sim").mkdir(parents=True)
    blockdev.save(str(tmp_path), blockdev.new_disk("env.json", "srv-1", fstype))
    sizes["gb"] = 300

    def snapshot():
        findmnt = run_tool(capsys, tmp_path, "findmnt", "--json", "--bytes", "--nofsroot", "--output",
                           "SOURCE,FSTYPE,TARGET", "--mountpoint", "/")[1]
        lsblk = run_tool(capsys, tmp_path, "lsblk", "--json", "--bytes", "--paths", "--output",
                         "NAME,PKNAME,TYPE,SIZE,LOG-SEC")[1]
        first = sd.system_disk_plan(findmnt, lsblk, None, "/", None, 300)
        return sd.system_disk_plan(findmnt, lsblk, run_tool(capsys, tmp_path, *first["size_command"])[1], "/", None, 300)

    before = snapshot()
    assert before["refusal"] == "" and before["disk_bytes"] == 300 * GIB and before["partition"] == 2
    code, out, _err = run_tool(capsys, tmp_path, "growpart", "--dry-run", "/dev/sda", "2")
    assert code == 0 and out.startswith("CHANGE: partition=2 start=1230848 ")
    code, out, _err = run_tool(capsys, tmp_path, "growpart", "/dev/sda", "2")
    assert code == 0 and out.startswith("CHANGED: partition=2 start=1230848 ")
    growth = sd.system_disk_growth(before, out)
    assert growth["device_bytes"] == (300 * GIB // 512 - 34 - 1230848 + 1) * 512 and growth["fs_grows"]
    code, out, err = run_tool(capsys, tmp_path, *before["grow_command"])
    assert code == 0
    result = sd.system_disk_result(before, growth, out + err)
    assert result["fs_changed"] and result["full_size"]

    after = snapshot()
    assert after["fs_bytes"] == result["fs_bytes"] and after["device_bytes"] == growth["device_bytes"]
    code, out, _err = run_tool(capsys, tmp_path, "growpart", "/dev/sda", "2")
    assert code == 1 and out == "NOCHANGE: partition 2 is size %d. it cannot be grown\n" % (growth["device_bytes"] // 512)
    assert sd.system_disk_growth(after, out)["fs_grows"] is False


def test_stand_in_refusals(monkeypatch, tmp_path, capsys):
    from modelarts_sim import blockdev
    monkeypatch.setattr(blockdev, "evs_size_gb", lambda env, server: 200)
    (tmp_path / "etc/modelarts-sim").mkdir(parents=True)
    blockdev.save(str(tmp_path), blockdev.new_disk("env.json", "srv-1", "ext4"))
    assert run_tool(capsys, tmp_path, "growpart", "/dev/vdb", "1")[:2] == (2, "FAILED: /dev/vdb: does not exist\n")
    assert run_tool(capsys, tmp_path, "growpart", "/dev/sda", "1")[:2] == (
        1, "NOCHANGE: partition 1 is size 1228800. it cannot be grown\n")  # the EFI partition, boxed in by root
    code, _out, err = run_tool(capsys, tmp_path, "resize2fs", "/dev/sda2")
    assert code == 0 and "Nothing to do!" in err
    assert run_tool(capsys, tmp_path, "findmnt", "--mountpoint", "/data")[0] == 1
