import type { Metadata } from 'next';
import { PlanList } from './PlanList';

export const metadata: Metadata = { title: 'Plans' };

export default function PlansPage() {
  return <PlanList />;
}
