variable "name" {
  type        = string
  description = "Replication group id."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets in at least two availability zones."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect."
}

variable "engine_version" {
  type        = string
  description = "Valkey version; check the versions ElastiCache offers in your region."
  default     = "8.0"
}

variable "node_type" {
  type        = string
  description = "Node size; cache.r7g.large has about 13 GiB of memory."
  default     = "cache.r7g.large"
}

variable "maxmemory_policy" {
  type        = string
  description = "noeviction for state (rate limits, streams); allkeys-lru for a cache."
  default     = "noeviction"
  validation {
    condition     = contains(["noeviction", "allkeys-lru", "volatile-lru"], var.maxmemory_policy)
    error_message = "Use noeviction for state or an LRU policy for a cache."
  }
}
