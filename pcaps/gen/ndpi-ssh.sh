#!/bin/bash
# Flows that only nDPI can name: the OpenSSH client (Debian's ssh) in namespace c
# (10.99.0.1) against two socat listeners in s (10.99.0.2):
#   ndpi-ssh.pcap  port 2222: a listener that never answers; the client sends its
#                  identification line (one payload segment) and is stopped after 2 s
#                  (timeout's SIGTERM, FIN);
#                  port 2223: a listener that sends an OpenSSH identification line and
#                  then stays silent; the client answers with its own line and its
#                  KEXINIT, and is stopped after 2 s.
# The first flow is the case the sensor holds back from nDPI until the flow ends (one
# payload segment); the second starts nDPI on its second payload segment. nDPI names
# both SSH; encryption is "unknown", not plaintext: the identification lines are text,
# but SSH encrypts everything after its key exchange (and it is not TLS).
. "$(dirname "$0")/lib.sh"

NAME=ndpi-ssh
SRV=10.99.0.2
SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o ConnectTimeout=5)

two_hosts
cap_start c c0 tcp

bg s silent socat -u TCP-LISTEN:2222,reuseaddr OPEN:/dev/null
SILENT_PID=$BG_PID
wait_listen s 2222 "$SILENT_PID"
# Both clients wait for a key exchange that never comes: timeout stops them (status 124).
rc=0
run c ssh-silent 2 ssh "${SSH_OPTS[@]}" -p 2222 "vtls@$SRV" true || rc=$?
[ "$rc" = 124 ] ||
    die "ssh against the silent listener ended with $rc: $(cat "$WORK/ssh-silent.log")"
wait_exit "$SILENT_PID" 5

printf '#!/bin/sh\nprintf "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n"\nexec sleep 5\n' \
    >"$WORK/banner.sh"
chmod +x "$WORK/banner.sh"
bg s banner socat TCP-LISTEN:2223,reuseaddr EXEC:"$WORK/banner.sh"
BANNER_PID=$BG_PID
wait_listen s 2223 "$BANNER_PID"
rc=0
run c ssh-banner 2 ssh "${SSH_OPTS[@]}" -p 2223 "vtls@$SRV" true || rc=$?
[ "$rc" = 124 ] ||
    die "ssh against the banner listener ended with $rc: $(cat "$WORK/ssh-banner.log")"
stop "$BANNER_PID"

cap_stop "$NAME"
expect_begin "$NAME" "OpenSSH client against a silent listener (one payload segment) and \
against a listener that only sends an identification line"
expect_flow client=10.99.0.1 server=$SRV server_port=2222 app=unknown encrypted=null rules=
expect_flow client=10.99.0.1 server=$SRV server_port=2223 app=unknown encrypted=null rules=
expect_end
