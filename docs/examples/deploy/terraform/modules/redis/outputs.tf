output "url" {
  description = "TLS connection URL for CHATBOT_REDIS_URL."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
}
