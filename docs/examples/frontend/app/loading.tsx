import { MessageListSkeleton } from "@/components/ui/Skeleton";

// Shown by Next.js while the route's server work runs (a streamed Suspense fallback).
export default function Loading() {
  return (
    <div className="flex h-dvh flex-col">
      <MessageListSkeleton />
    </div>
  );
}
