# [start:redis]
resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  vpc_id      = var.vpc_id

  ingress {
    description     = "Redis protocol from the cluster only"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Rate limits, caches and streams for the chatbot"
  engine               = "valkey" # Redis-compatible; ElastiCache offers no Redis 8
  engine_version       = var.engine_version
  node_type            = var.node_type

  num_cache_clusters         = 2 # primary + replica in another zone
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true # clients must use rediss://

  # Rate-limit counters and caches may be evicted; streams must not be: keep memory
  # headroom and alert on evictions instead of relying on the policy.
  parameter_group_name = "default.valkey8"
  snapshot_retention_limit = 1
}
# [end:redis]
