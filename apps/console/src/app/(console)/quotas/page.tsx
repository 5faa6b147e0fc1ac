import type { Metadata } from 'next';
import { QuotaList } from './QuotaList';

export const metadata: Metadata = { title: 'Quotas' };

export default function QuotasPage() {
  return <QuotaList />;
}
