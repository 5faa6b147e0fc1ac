import type { Metadata } from 'next';
import { ExplorerLoader } from './ExplorerLoader';

export const metadata: Metadata = { title: 'GraphQL explorer' };

export default function ExplorerPage() {
  return <ExplorerLoader />;
}
