// Who may touch the install state: root, and lighttpd's user (server.user), which runs the
// report CGI and must never be root. The state directory belongs to that user's group; the files
// the CGI writes are group-writable, the per-node loader configs too (the hand-off).
//
// The state directory's mode is 2771: others may pass through it (dnsmasq, once it has dropped
// root, reads the reservations in dhcp-hosts/) but not list it; what is secret in it is
// readable by the group only (ks/ 2750, installs.json 0660).
#pragma once

#include <string>

#include "pxe/config.h"

namespace storkit {

// Sets cfg.cgi_group and cfg.cgi_gid from the system's user database. Throws ConfigError naming
// server.user when there is no such user (with how to create one) or it is root.
void resolve_cgi_user(PxeConfig& cfg);

// Gives the state directory, its kickstart directory and the files the CGI writes to the CGI's
// group with the modes above, whoever created them. Throws Error naming the path.
void open_state_to_cgi(const PxeConfig& cfg);

}  // namespace storkit
