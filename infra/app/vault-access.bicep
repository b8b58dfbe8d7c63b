// Site Recovery Contributor on one Recovery Services vault: enable and disable replication, test failover,
// failover, commit. Deployed in the vault's resource group so the scope is the vault, not the group.
param vaultName string
param principalId string

var siteRecoveryContributor = '6670b86e-a3f7-4917-ac9b-5d6ab1be4567'

resource vault 'Microsoft.RecoveryServices/vaults@2024-04-01' existing = {
  name: vaultName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, siteRecoveryContributor)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', siteRecoveryContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
