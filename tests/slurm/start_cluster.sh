#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine, with accounting (slurmdbd + MariaDB), for
# tests/test_slurm.py. Needs root and Debian's slurm-wlm, munge, slurmdbd, mariadb-server (installed here
# when missing). Idempotent: a running cluster is left as it is.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null || ! command -v mariadbd >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge slurmdbd mariadb-server >/dev/null
fi
if sinfo -h >/dev/null 2>&1 && sacct -n >/dev/null 2>&1; then
  echo "slurm cluster already running"; exit 0
fi
HOST=$(hostname -s)
# The node advertises 8 CPUs, 32 GB and two GPUs whatever the machine has (SlurmdParameters=config_overrides):
# the shipped profile asks 4 CPUs, 16 GB and a GPU per training job, and the test runs that profile as is.
# The test jobs themselves are tiny (< 1 GB); the GPUs are GRES on device nodes that nothing opens, so the
# request path (--gpus=1, the gpu partition, AllocTRES gres/gpu) is real while training falls back to the CPU;
# two of them, so that two training jobs run at once as CPUs and memory allow.
CPUS=8
MEM_MB=32000
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/run/mysqld

# munge: one key shared by every daemon of this single node
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# MariaDB for accounting
chown -R mysql:mysql /var/run/mysqld /var/lib/mysql
if ! pgrep -x mariadbd >/dev/null; then
  (mysqld_safe --user=mysql >/var/log/slurm/mariadb.log 2>&1 &)
  for _ in $(seq 60); do mysqladmin ping >/dev/null 2>&1 && break; sleep 1; done
fi
mysql -u root <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'neurolip-test';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL

cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=neurolip-test
StorageLoc=slurm_acct_db
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
CONF
chmod 600 /etc/slurm/slurmdbd.conf

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=neurolip
SlurmctldHost=${HOST}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStoreFlags=job_comment
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmdParameters=config_overrides
GresTypes=gpu
AccountingStorageTRES=gres/gpu
NodeName=${HOST} CPUs=${CPUS} RealMemory=${MEM_MB} Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=${HOST} Default=NO MaxTime=INFINITE State=UP
CONF
# a device node for the GPU GRES (slurmd counts GPUs from their device files; nothing ever opens it)
for i in 0 1; do [ -e /dev/nvidia$i ] || mknod /dev/nvidia$i c 195 $i; done
cat > /etc/slurm/gres.conf <<CONF
AutoDetect=off
NodeName=${HOST} Name=gpu Count=2 File=/dev/nvidia[0-1]
CONF

pgrep -x slurmdbd >/dev/null || slurmdbd
for _ in $(seq 30); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 1; done
sacctmgr -i add cluster neurolip >/dev/null 2>&1 || true
sacctmgr -i add account neurolip Description=tests Organization=neurolip >/dev/null 2>&1 || true
sacctmgr -i add user root Account=neurolip DefaultAccount=neurolip >/dev/null 2>&1 || true
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then break; fi
  scontrol update NodeName="${HOST}" State=RESUME >/dev/null 2>&1 || true
  sleep 1
done
sinfo
sacct -n >/dev/null && echo "slurm cluster up: partitions cpu (default) and gpu (two GPU GRES), account neurolip"
