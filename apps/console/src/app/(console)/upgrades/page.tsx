import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Skeleton } from '@/components/ui';
import { UpgradeClusters } from './UpgradeClusters';

export const metadata: Metadata = { title: 'Upgrade clusters' };

export default function UpgradesPage() {
  return (
    <Suspense fallback={<Skeleton lines={4} label="Loading" />}>
      <UpgradeClusters />
    </Suspense>
  );
}
