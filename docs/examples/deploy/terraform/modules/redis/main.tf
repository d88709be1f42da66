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

  parameter_group_name     = aws_elasticache_parameter_group.this.name
  snapshot_retention_limit = 1
}

# The state Redis (rate limits, streams) must never evict: "noeviction" turns a full
# memory into write errors you alert on. A cache instance of this module sets allkeys-lru.
resource "aws_elasticache_parameter_group" "this" {
  name   = "${var.name}-params"
  family = "valkey8"

  parameter {
    name  = "maxmemory-policy"
    value = var.maxmemory_policy
  }
}
# [end:redis]
