#!/usr/bin/perl
# Build the small MaxMind databases the geo unit tests read, in directory
# $ARGV[0] (default: this script's directory):
#   test-country.mmdb  GeoLite2-Country layout (country.iso_code, names)
#   test-asn.mmdb      GeoLite2-ASN layout (autonomous_system_number/organization)
#   test-zones.mmdb    a custom map of the cluster's own networks to zone,
#                      cell and environment (top-level strings)
# Needs libmaxmind-db-writer-perl (Debian 12: apt-get install
# libmaxmind-db-writer-perl). Its remove_reserved_networks option drops
# private ranges such as 10.0.0.0/8 by default; it is turned off here,
# since the cluster map is made of exactly those.
use strict;
use warnings;
use File::Basename qw(dirname);
use MaxMind::DB::Writer::Tree;

my $dir = $ARGV[0] // dirname(__FILE__);

my %types = (
    country                        => 'map',
    iso_code                       => 'utf8_string',
    names                          => 'map',
    en                             => 'utf8_string',
    geoname_id                     => 'uint32',
    registered_country             => 'map',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    zone                           => 'utf8_string',
    cell                           => 'utf8_string',
    environment                    => 'utf8_string',
    rack                           => 'uint32',
    tags                           => ['array', 'utf8_string'],
);

sub write_db {
    my ($file, $type, $nets) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "vtls-sensor test database ($type)" },
        map_key_type_callback    => sub { $types{ $_[0] } },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => 1,
    );
    for my $n (@$nets) {
        $tree->insert_network($n->[0], $n->[1]);
    }
    open my $fh, '>:raw', "$dir/$file" or die "$dir/$file: $!";
    $tree->write_tree($fh);
    close $fh or die "$dir/$file: $!";
}

sub country {
    my ($iso, $name, $id) = @_;
    return { country => { iso_code => $iso, names => { en => $name }, geoname_id => $id },
             registered_country => { iso_code => $iso, names => { en => $name },
                                     geoname_id => $id } };
}

write_db('test-country.mmdb', 'GeoLite2-Country', [
    ['81.2.69.0/24',     country('GB', 'United Kingdom', 2635167)],
    ['198.51.100.0/24',  country('DE', 'Germany', 2921044)],
    ['2001:db8:1::/48',  country('SE', 'Sweden', 2661886)],
    ['10.0.0.0/8',       country('NL', 'Netherlands', 2750405)],
]);

write_db('test-asn.mmdb', 'GeoLite2-ASN', [
    ['198.51.100.0/24', { autonomous_system_number => 64500,
                          autonomous_system_organization => 'Example Transit AS' }],
    ['2001:db8:1::/48', { autonomous_system_number => 64501,
                          autonomous_system_organization => 'Example v6 AS' }],
]);

write_db('test-zones.mmdb', 'vtls-zones', [
    ['10.0.0.0/16', { zone => 'zone1', cell => 'cell-a', environment => 'prod', rack => 7,
                      tags => ['a', 'b'] }],
    ['10.1.0.0/16', { zone => 'zone2', cell => 'cell-b', environment => 'prod' }],
    ['10.9.0.0/16', { zone => "z\"q\x{e9}", cell => 'x' x 100, environment => 'staging' }],
    ['fd00:10::/32', { zone => 'zone6', cell => 'cell-v6', environment => 'prod' }],
]);

# Zones of the demo cluster capture (pcaps/demo-cluster.pcap): the application
# network in one cell, the Vitess and etcd networks in another.
write_db('demo-zones.mmdb', 'vtls-zones', [
    ['10.99.10.0/24', { zone => 'edge', cell => 'apps', environment => 'demo' }],
    ['10.99.20.0/24', { zone => 'core', cell => 'vitess', environment => 'demo' }],
    ['10.99.30.0/24', { zone => 'core', cell => 'vitess', environment => 'demo' }],
    ['10.99.40.0/24', { zone => 'core', cell => 'control', environment => 'demo' }],
    ['10.99.50.0/24', { zone => 'core', cell => 'vitess', environment => 'demo' }],
    ['10.99.60.0/24', { zone => 'core', cell => 'topology', environment => 'demo' }],
]);
