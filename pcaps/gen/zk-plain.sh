#!/bin/bash
# ZooKeeper 3.8 (Debian's zookeeper, standalone ZooKeeperServerMain started by hand with
# a temp config and data dir) in namespace s (10.99.0.2, clientPort 2181); a python3-kazoo
# client in c (10.99.0.1) opens a session, creates /vitess/global/keyspaces/commerce,
# reads it back, lists its parent and closes the session:
#   zk-plain.pcap   one plaintext client connection (ConnectRequest, create, getData,
#                   getChildren, closeSession)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

NAME=zk-plain
SRV=10.99.0.2
PORT=2181
ZNODE=/vitess/global/keyspaces/commerce

two_hosts
mkdir -p "$WORK/zk/data"
cat >"$WORK/zk/zoo.cfg" <<EOF
tickTime=2000
dataDir=$WORK/zk/data
clientPort=$PORT
clientPortAddress=$SRV
maxClientCnxns=10
admin.enableServer=false
EOF
# Log to the console (our log file) with the package's log4j configuration.
bg s zookeeper java -Dzookeeper.log.dir="$WORK/zk" -Dzookeeper.root.logger=INFO,CONSOLE \
    -Dlog4j.configuration=file:/etc/zookeeper/conf/log4j.properties \
    -Dzookeeper.admin.enableServer=false -Xmx128m \
    -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
    org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk/zoo.cfg"
ZK_PID=$BG_PID
# A JVM takes a while: allow up to 30 s (lib.sh's wait_listen gives up after 10 s).
for _ in $(seq 300); do
    [ -n "$(nsx s ss -Hltn "sport = :$PORT")" ] && break
    kill -0 "$ZK_PID" 2>/dev/null || die "ZooKeeper exited: $(tail -5 "$WORK/zookeeper.log")"
    sleep 0.1
done
wait_listen s $PORT "$ZK_PID"
# The port listens before the server serves (it drops connections until then): wait for
# the "srvr" four-letter word (allowed by default) to report the standalone mode. These
# probes come before the capture starts.
for _ in $(seq 100); do
    nsx s timeout 2 bash -c "exec 3<>/dev/tcp/$SRV/$PORT && printf srvr >&3 && cat <&3" \
        2>/dev/null | grep -q 'Mode: standalone' && break
    kill -0 "$ZK_PID" 2>/dev/null || die "ZooKeeper exited: $(tail -5 "$WORK/zookeeper.log")"
    sleep 0.2
done

cat >"$WORK/zk_client.py" <<EOF
import logging
from kazoo.client import KazooClient
logging.basicConfig(level=logging.WARNING)
zk = KazooClient(hosts="$SRV:$PORT", timeout=10.0)
zk.start(timeout=15)
zk.ensure_path("/vitess/global/keyspaces")
zk.create("$ZNODE", b'{"keyspace":"commerce"}')
data, stat = zk.get("$ZNODE")
print("data", data.decode(), "version", stat.version)
print("children", zk.get_children("/vitess/global/keyspaces"))
zk.stop()
zk.close()
EOF
cap_begin c c0 tcp port $PORT
run c kazoo 30 "$PY" "$WORK/zk_client.py" || die "kazoo client failed: $(tail -5 "$WORK/kazoo.log")"
grep -q 'children.*commerce' "$WORK/kazoo.log" || die "kazoo did not list the znode"
cap_stop $NAME
stop "$ZK_PID"

expect_begin $NAME "ZooKeeper $(dpkg-query -W -f '${Version}' zookeeper 2>/dev/null) \
standalone, python3-kazoo session in plaintext: ConnectRequest (protocol 0), ensure_path \
/vitess/global/keyspaces, create $ZNODE, getData, getChildren, closeSession"
expect_flow client=10.99.0.1 server=$SRV server_port=$PORT app=zookeeper encrypted=false \
    server_component=zookeeper zk.protocol_version=0 zk.session_timeout_ms=10000 \
    rules=plaintext-topology-zookeeper
expect_end_apps
